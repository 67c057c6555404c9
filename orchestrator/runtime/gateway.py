"""The circuit gateway: one actor per backend key (backend, shots, noise) that coalesces the
circuit batches of every job arriving within a short window into one provider job, within the
backend's limits, and hands each job its item. Seeded local simulators fan the rows out as Ray
tasks over the cluster's CPUs, block by seed block, so the numbers do not depend on the split.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qorch.backends.contract import Backend, CircuitBatch, JobHandle
from qorch.backends.errors import ProviderJobError
from qorch.backends.local.backend import LocalBackend, block_seed, seed_blocks
from qorch.orchestrator.settings import Settings

log = logging.getLogger(__name__)
IDLE_EXIT_S = 600.0  # a gateway nobody used for this long closes its backend and leaves
KEEP_GROUPS = 512  # finished provider jobs kept for late waiters


@dataclass(frozen=True)
class GatewayKey:
    """What makes two batches shareable in one provider job."""

    backend: str
    shots: int | None
    noise: str | None

    @property
    def actor_name(self) -> str:
        from qorch.orchestrator.runtime.names import GATEWAY_PREFIX

        return f"{GATEWAY_PREFIX}{self.backend}/{self.shots or 'exact'}/{self.noise or 'none'}"


@dataclass
class Request:
    batch: CircuitBatch
    tag: str
    queued_at: float = field(default_factory=time.monotonic)
    sent: threading.Event = field(default_factory=threading.Event)
    provider_job_id: str = ""
    item: int = 0
    error: str | None = None


class FanOut(JobHandle):
    """A seeded local group run as Ray tasks, one per seed block, spread over the cluster."""

    def __init__(self, provider_job_id: str, key: GatewayKey, batches: Sequence[CircuitBatch],
                 width: int, settings: Settings) -> None:
        import ray

        self._id = provider_job_id
        self._blocks: dict[int, list[Any]] = {}
        task = simulate_block.options(num_cpus=0, scheduling_strategy="SPREAD")
        for item, batch in enumerate(batches):
            assert batch.seed is not None
            self._blocks[item] = [
                task.remote(key, settings.credentials, batch.template, batch.params[a:b],
                            batch.shots, block_seed(batch.seed, block))
                for block, (a, b) in enumerate(seed_blocks(batch.n_circuits))]
        self._width = width
        self._ray = ray

    @property
    def provider_job_id(self) -> str:
        return self._id

    def _refs(self) -> list[Any]:
        return [ref for refs in self._blocks.values() for ref in refs]

    def status(self) -> str:
        ready, _ = self._ray.wait(self._refs(), num_returns=len(self._refs()), timeout=0)
        return "DONE" if len(ready) == len(self._refs()) else "RUNNING"

    def phase(self) -> str | None:
        return None if self.status() == "DONE" else f"simulating on up to {self._width} CPUs"

    def result(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        refs = self._blocks.get(item)
        if refs is None:
            raise ProviderJobError(f"local job {self._id} has no item {item}")
        ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=timeout)
        if len(ready) < len(refs):
            raise TimeoutError(f"local job {self._id} still running")
        return np.concatenate(self._ray.get(refs), axis=0)

    def cancel(self) -> None:
        for ref in self._refs():
            self._ray.cancel(ref)


_backends: dict[GatewayKey, Backend] = {}


def backend_for(key: GatewayKey, credentials: Any) -> Backend:
    """One adapter per key and process (compiled circuits and noise models stay warm)."""
    from qorch.backends.registry import resolve

    if key not in _backends:
        _backends[key] = resolve(key.backend, shots=key.shots, noise=key.noise,
                                 credentials=credentials)
    return _backends[key]


def _simulate_block(key: GatewayKey, credentials: Any, template: Any, params: np.ndarray,
                    shots: int | None, seed: int) -> np.ndarray:
    import torch

    torch.set_num_threads(1)
    backend = backend_for(key, credentials)
    assert isinstance(backend, LocalBackend)
    return backend.simulate(template, params, shots, seed)


def _remote(function: Any) -> Any:
    import ray

    return ray.remote(function)


class _Lazy:
    """simulate_block as a Ray task, made on first use (importing ray is not free)."""

    _task: Any = None

    def options(self, **options: Any) -> Any:
        if _Lazy._task is None:
            _Lazy._task = _remote(_simulate_block)
        return _Lazy._task.options(**options)


simulate_block = _Lazy()


class Gateway:
    """Batches from every job for one backend key, coalesced; see the module docstring."""

    def __init__(self, settings: Settings, key: GatewayKey) -> None:
        self.settings, self.key = settings, key
        self.backend = backend_for(key, settings.credentials)
        self.window = settings.gateway_window_s
        self._queue: deque[Request] = deque()
        self._cond = threading.Condition()
        self._groups: dict[str, JobHandle] = {}
        self._last_used = time.monotonic()
        self._started = time.monotonic()
        self._busy_s = 0.0
        self._stats: dict[str, list[float]] = {"requests": [], "rows": [], "wait_s": []}
        threading.Thread(target=self._loop, name="qorch-gateway", daemon=True).start()

    # --- what jobs call ----------------------------------------------------------------------

    def send(self, batch: CircuitBatch, tag: str) -> tuple[str, int]:
        """Queue a batch; returns (provider job id, item) once its group has been sent."""
        request = Request(batch, tag)
        with self._cond:
            self._queue.append(request)
            self._last_used = time.monotonic()
            self._cond.notify_all()
        request.sent.wait()
        if request.error is not None:
            raise ProviderJobError(request.error)
        return request.provider_job_id, request.item

    def wait(self, provider_job_id: str, item: int, timeout: float) -> np.ndarray | None:
        """The item's outputs, or None if still running after `timeout` seconds."""
        handle = self._handle(provider_job_id)
        try:
            return handle.result(item, timeout=timeout)
        except TimeoutError:
            return None

    def phase(self, provider_job_id: str) -> str | None:
        return self._handle(provider_job_id).phase()

    def status(self, provider_job_id: str) -> str:
        return self._handle(provider_job_id).status()

    def cancel(self, provider_job_id: str) -> None:
        self._handle(provider_job_id).cancel()

    def stats(self) -> dict[str, Any]:
        """Provider jobs sent, batches and rows per provider job, queue waits, utilisation."""
        requests, rows, waits = (self._stats[k] for k in ("requests", "rows", "wait_s"))
        elapsed = max(time.monotonic() - self._started, 1e-9)
        return {
            "key": self.key.actor_name, "provider_jobs": len(requests),
            "batches": int(sum(requests)),
            "batches_per_job": float(np.mean(requests)) if requests else 0.0,
            "rows_per_job": float(np.mean(rows)) if rows else 0.0,
            "wait_ms_median": float(np.median(waits) * 1000) if waits else 0.0,
            "utilisation": self._busy_s / elapsed, "queued": len(self._queue),
        }

    # --- the batcher -------------------------------------------------------------------------

    def _handle(self, provider_job_id: str) -> JobHandle:
        handle = self._groups.get(provider_job_id)
        if handle is None:
            raise ProviderJobError(f"the gateway knows no provider job {provider_job_id}")
        return handle

    def _take(self) -> list[Request]:
        """Wait for a first batch, then the window for more; take what fits one provider job."""
        with self._cond:
            while not self._queue:
                if not self._cond.wait(timeout=30.0) and self._idle():
                    return []
            first = self._queue[0].queued_at
        time.sleep(max(0.0, first + self.window - time.monotonic()))
        limit = self.backend.capabilities.max_circuits_per_job
        taken: list[Request] = []
        with self._cond:
            rows = 0
            while self._queue and (not taken or rows + self._queue[0].batch.n_circuits <= limit):
                request = self._queue.popleft()
                rows += request.batch.n_circuits
                taken.append(request)
        return taken

    def _idle(self) -> bool:
        return time.monotonic() - self._last_used > IDLE_EXIT_S

    def _loop(self) -> None:
        while True:
            taken = self._take()
            if not taken:
                log.info("gateway %s idle; closing", self.key.actor_name)
                self.backend.close()
                return
            started = time.monotonic()
            try:
                self._send(taken)
            except Exception as err:  # every waiting job must hear about it
                for request in taken:
                    request.error = f"{type(err).__name__}: {err}"
                    request.sent.set()
            self._busy_s += time.monotonic() - started

    def _send(self, taken: list[Request]) -> None:
        batches = [r.batch for r in taken]
        if self.backend.capabilities.seeded:
            import ray

            width = max(1, int(ray.cluster_resources().get("CPU", 1)))
            provider_job_id = f"{self.key.backend}-{uuid.uuid4().hex[:16]}"
            handle: JobHandle = FanOut(provider_job_id, self.key, batches, width, self.settings)
        else:
            handle = self.backend.run_batches(batches, [r.tag for r in taken])
            provider_job_id = handle.provider_job_id
        self._groups[provider_job_id] = handle
        while len(self._groups) > KEEP_GROUPS:
            self._groups.pop(next(iter(self._groups)))
        now = time.monotonic()
        self._stats["requests"].append(len(taken))
        self._stats["rows"].append(sum(b.n_circuits for b in batches))
        for item, request in enumerate(taken):
            self._stats["wait_s"].append(now - request.queued_at)
            request.provider_job_id, request.item = provider_job_id, item
            request.sent.set()


def gateway_actor(settings: Settings, key: GatewayKey) -> Any:
    """The gateway of a key, created on first use (it takes no CPU from the jobs)."""
    import ray

    cls = ray.remote(Gateway)
    return cls.options(name=key.actor_name, lifetime="detached", get_if_exists=True,
                       num_cpus=0, max_concurrency=256, max_restarts=-1).remote(settings, key)
