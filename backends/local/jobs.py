"""Handles of jobs simulated in this process: a future of outputs per item, kept for retrieve()."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor

import numpy as np

from qorch.backends.contract import JobHandle
from qorch.backends.errors import BackendError, ProviderJobError

_KEEP = 256  # finished local jobs kept for retrieve() within one process
_registry: OrderedDict[tuple[str, str], LocalJob] = OrderedDict()
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None

Outputs = dict[int, np.ndarray]


def pool() -> ThreadPoolExecutor:
    """One small shared pool, so run_batches() returns at once while simulators run."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qorch-backend")
        return _pool


def new_job_id(backend: str) -> str:
    return f"{backend}-{uuid.uuid4().hex[:16]}"


def finished(backend: str, provider_job_id: str) -> LocalJob | None:
    """A job of this backend still held by this process."""
    with _lock:
        return _registry.get((backend, provider_job_id))


class LocalJob(JobHandle):
    """A future of {item: outputs [R, n_outputs]}."""

    def __init__(self, backend: str, provider_job_id: str, future: Future[Outputs]) -> None:
        self._backend = backend
        self._id = provider_job_id
        self._future = future
        with _lock:
            _registry[(backend, provider_job_id)] = self
            _registry.move_to_end((backend, provider_job_id))
            while len(_registry) > _KEEP:
                _registry.popitem(last=False)

    @classmethod
    def start(cls, backend: str, provider_job_id: str, work: Callable[[], Outputs]) -> LocalJob:
        return cls(backend, provider_job_id, pool().submit(work))

    @property
    def provider_job_id(self) -> str:
        return self._id

    def status(self) -> str:
        f = self._future
        if f.cancelled():
            return "CANCELLED"
        if f.done():
            return "ERROR" if f.exception() is not None else "DONE"
        return "RUNNING" if f.running() else "QUEUED"

    def phase(self) -> str | None:
        state = self.status()
        if state == "QUEUED":
            return f"waiting for the local {self._backend} simulator"
        if state == "RUNNING":
            return f"simulating on {self._backend}"
        return None

    def result(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        try:
            outputs = self._future.result(timeout)
        except TimeoutError:
            raise TimeoutError(f"{self._backend} job {self._id} still running") from None
        except CancelledError:
            raise ProviderJobError(f"{self._backend} job {self._id} was cancelled") from None
        except BackendError:
            raise
        except Exception as err:
            raise ProviderJobError(
                f"{self._backend} job {self._id} failed: {type(err).__name__}: {err}"
            ) from err
        if item not in outputs:
            raise ProviderJobError(f"{self._backend} job {self._id} has no item {item}")
        return outputs[item]

    def cancel(self) -> None:
        self._future.cancel()
