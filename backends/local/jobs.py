"""Handles for jobs simulated in this process: a future, a seed-carrying id, a small registry."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor

import numpy as np

from qorch.backends.errors import BackendError, ProviderJobError

_SEED_MARK = "/seed="
_KEEP = 256  # finished local jobs kept for retrieve() within one process
_registry: OrderedDict[str, LocalJob] = OrderedDict()
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    """One small shared pool, so submit() returns at once while simulators run."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qorch-backend")
        return _pool


def job_id(engine_id: str | None, seed: int) -> str:
    """Local ids carry their seed, so a job can be re-run bit for bit after a restart."""
    return f"{engine_id or uuid.uuid4().hex}{_SEED_MARK}{seed}"


def seed_of(provider_job_id: str) -> int | None:
    head, mark, tail = provider_job_id.rpartition(_SEED_MARK)
    if not mark or not head or not tail.isdigit():
        return None
    return int(tail)


def new_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def finished(provider_job_id: str) -> LocalJob | None:
    with _lock:
        return _registry.get(provider_job_id)


class LocalJob:
    """A JobHandle over a Future of the decoded outputs [R, n_outputs]."""

    def __init__(self, backend: str, provider_job_id: str, future: Future[np.ndarray]) -> None:
        self._backend = backend
        self._id = provider_job_id
        self._future = future
        with _lock:
            _registry[provider_job_id] = self
            _registry.move_to_end(provider_job_id)
            while len(_registry) > _KEEP:
                _registry.popitem(last=False)

    @classmethod
    def run(cls, backend: str, provider_job_id: str, work: Callable[[], np.ndarray]) -> LocalJob:
        return cls(backend, provider_job_id, pool().submit(work))

    @classmethod
    def done(cls, backend: str, provider_job_id: str, value: np.ndarray) -> LocalJob:
        future: Future[np.ndarray] = Future()
        future.set_result(value)
        return cls(backend, provider_job_id, future)

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

    def result(self, timeout: float | None = None) -> np.ndarray:
        try:
            return self._future.result(timeout)
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

    def cancel(self) -> None:
        self._future.cancel()
