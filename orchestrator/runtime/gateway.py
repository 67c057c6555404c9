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
from qorch.orchestrator.runtime.names import SIMULATOR_PREFIX
from qorch.orchestrator.settings import Settings

log = logging.getLogger(__name__)
KEEP_GROUPS = 512  # finished provider jobs kept for late waiters


class GatewayClosedError(Exception):
    """The gateway closed (idle) before taking the batch: nothing was sent; ask a new one."""


@dataclass(frozen=True)
class GatewayKey:
    """What makes two batches shareable in one provider job."""

    backend: str
    shots: int | None
    noise: str | None
    engine: str | None = None  # a noisy local backend's non-default engine
    mitigate: str | None = None

    @property
    def actor_name(self) -> str:
        from qorch.orchestrator.runtime.names import GATEWAY_PREFIX

        options = "".join(f"/{k}={v}" for k, v in (("engine", self.engine),
                                                   ("mitigate", self.mitigate)) if v)
        return (f"{GATEWAY_PREFIX}{self.backend}/{self.shots or 'exact'}/"
                f"{self.noise or 'none'}{options}")

    @classmethod
    def of(cls, backend: Backend, shots: int | None, noise: str | None) -> GatewayKey:
        """The key of a resolved backend: its name and the options it was resolved with."""
        engine = getattr(backend, "engine", None)
        return cls(backend.name, shots, noise, None if engine == "torch" else engine,
                   getattr(backend, "mitigation", None))


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
    """A seeded local group run block by block on the cluster's simulators."""

    def __init__(self, provider_job_id: str, key: GatewayKey, batches: Sequence[CircuitBatch],
                 pool: SimulatorPool, credentials: Any) -> None:
        self._id, self._key, self._pool, self._credentials = provider_job_id, key, pool, credentials
        self._blocks: dict[int, list[tuple[Any, Block]]] = {}
        for item, batch in enumerate(batches):
            assert batch.seed is not None
            blocks = [Block(batch.template, batch.params[a:b], batch.shots,
                            block_seed(batch.seed, index))
                      for index, (a, b) in enumerate(seed_blocks(batch.n_circuits))]
            self._blocks[item] = [(self._run(block), block) for block in blocks]

    def _run(self, block: Block) -> Any:
        return self._pool.run(self._key, self._credentials, block)

    @property
    def provider_job_id(self) -> str:
        return self._id

    def _refs(self) -> list[Any]:
        return [ref for pairs in self._blocks.values() for ref, _ in pairs]

    def status(self) -> str:
        import ray

        refs = self._refs()
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        return "DONE" if len(ready) == len(refs) else "RUNNING"

    def phase(self) -> str | None:
        return None if self.status() == "DONE" else f"simulating on {len(self._pool)} CPUs"

    def result(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        import ray

        pairs = self._blocks.get(item)
        if pairs is None:
            raise ProviderJobError(f"local job {self._id} has no item {item}")
        refs = [ref for ref, _ in pairs]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=timeout)
        if len(ready) < len(refs):
            raise TimeoutError(f"local job {self._id} still running")
        parts = []
        for index, (ref, block) in enumerate(pairs):
            try:
                parts.append(ray.get(ref))
            except ray.exceptions.RayActorError:
                # Its node went away: the block runs again elsewhere, from the same seed.
                self._pool.refresh()
                fresh = self._run(block)
                pairs[index] = (fresh, block)
                parts.append(ray.get(fresh))
        return np.concatenate(parts, axis=0)

    def cancel(self) -> None:
        import ray

        for ref in self._refs():
            ray.cancel(ref)

    def settle(self) -> None:
        """Wait until every block has finished, whatever its outcome (its waiters hear it)."""
        import ray

        refs = self._refs()
        ray.wait(refs, num_returns=len(refs))


@dataclass(frozen=True)
class Block:
    """One seed block of a batch: what a simulator runs."""

    template: Any
    params: np.ndarray
    shots: int | None
    seed: int


_backends: dict[GatewayKey, Backend] = {}


def backend_for(key: GatewayKey, credentials: Any) -> Backend:
    """One adapter per key and process (compiled circuits and noise models stay warm)."""
    from qorch.backends.registry import resolve

    if key not in _backends:
        _backends[key] = resolve(key.backend, shots=key.shots, noise=key.noise,
                                 credentials=credentials, engine=key.engine,
                                 mitigate=key.mitigate)
    return _backends[key]


class Simulator:
    """A warm simulator process pinned to one node; the pool holds one per CPU."""

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)

    def simulate(self, key: GatewayKey, credentials: Any, block: Block) -> np.ndarray:
        backend = backend_for(key, credentials)
        assert isinstance(backend, LocalBackend)
        return backend.simulate(block.template, block.params, block.shots, block.seed)


class SimulatorPool:
    """One simulator per CPU of every live node (0 CPUs asked: the jobs hold theirs while they
    wait for their circuits); blocks (all of one size) go round the pool in turn."""

    def __init__(self) -> None:
        self._actors: list[Any] = []
        self._next = 0
        self._lock = threading.Lock()
        self.refresh()

    def __len__(self) -> int:
        return len(self._actors)

    def refresh(self) -> None:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        cls = ray.remote(Simulator)
        actors = []
        for node in ray.nodes():
            if not node.get("Alive"):
                continue
            for index in range(max(1, int(node["Resources"].get("CPU", 1)))):
                actors.append(cls.options(
                    name=f"{SIMULATOR_PREFIX}{node['NodeID'][:12]}-{index}", lifetime="detached",
                    get_if_exists=True, num_cpus=0,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"],
                                                                       soft=False),
                ).remote())
        with self._lock:
            self._actors = actors

    def run(self, key: GatewayKey, credentials: Any, block: Block) -> Any:
        with self._lock:
            actor = self._actors[self._next % len(self._actors)]
            self._next += 1
        return actor.simulate.remote(key, credentials, block)


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
        self._simulators: SimulatorPool | None = None
        self._closed = False
        threading.Thread(target=self._loop, name="qorch-gateway", daemon=True).start()

    # --- what jobs call ----------------------------------------------------------------------

    def send(self, batch: CircuitBatch, tag: str) -> tuple[str, int]:
        """Queue a batch; returns (provider job id, item) once its group has been sent."""
        request = Request(batch, tag)
        with self._cond:
            if self._closed:
                raise GatewayClosedError(f"gateway {self.key.actor_name} has closed")
            self._queue.append(request)
            self._last_used = time.monotonic()
            self._cond.notify_all()
        request.sent.wait()
        if request.error is not None:
            raise ProviderJobError(request.error)
        return request.provider_job_id, request.item

    def withdraw(self, tag: str) -> bool:
        """Take a batch back if it is still queued (its job stopped); False once it was taken
        for a provider job, whose id its waiting `send` then returns."""
        with self._cond:
            for request in self._queue:
                if request.tag == tag:
                    self._queue.remove(request)
                    request.error = "withdrawn: its job stopped"
                    request.sent.set()
                    return True
        return False

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

    def _pool(self) -> SimulatorPool:
        if self._simulators is None:
            self._simulators = SimulatorPool()
        return self._simulators

    def _handle(self, provider_job_id: str) -> JobHandle:
        handle = self._groups.get(provider_job_id)
        if handle is None:
            raise ProviderJobError(f"the gateway knows no provider job {provider_job_id}")
        return handle

    def _take(self) -> list[Request]:
        """Wait for a first batch, then the window for more; take what fits one provider job."""
        idle = self.settings.gateway_idle_s
        with self._cond:
            while not self._queue:
                if not self._cond.wait(timeout=min(30.0, idle)) and self._idle():
                    # Under the lock, so no batch is queued behind a loop that has ended.
                    self._closed = True
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
        return time.monotonic() - self._last_used > self.settings.gateway_idle_s

    def _loop(self) -> None:
        previous: JobHandle | None = None
        while True:
            # Simulators are busy with the group before: let arrivals gather for the next one
            # (continuous batching). Providers queue on their side, so remote groups go at once.
            if isinstance(previous, FanOut):
                try:
                    previous.settle()
                except Exception:  # its jobs hear of it from their own waits
                    log.exception("gateway %s: a group failed", self.key.actor_name)
            taken = self._take()
            if self._closed:
                self._leave()
                return
            if not taken:  # everything queued was withdrawn during the window
                continue
            started = time.monotonic()
            try:
                previous = self._send(taken)
            except Exception as err:  # every waiting job must hear about it
                previous = None
                for request in taken:
                    request.error = f"{type(err).__name__}: {err}"
                    request.sent.set()
            self._busy_s += time.monotonic() - started

    def _leave(self) -> None:
        """Idle: close the backend and end this actor, freeing its name for a new gateway."""
        import ray

        log.info("gateway %s idle; closing", self.key.actor_name)
        self.backend.close()
        if ray.is_initialized() and ray.get_runtime_context().get_actor_id() is not None:
            ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    def _send(self, taken: list[Request]) -> JobHandle:
        batches = [r.batch for r in taken]
        if self.backend.capabilities.seeded:
            provider_job_id = f"{self.key.backend}-{uuid.uuid4().hex[:16]}"
            handle: JobHandle = FanOut(provider_job_id, self.key, batches, self._pool(),
                                       self.settings.credentials)
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
        return handle


def gateway_actor(settings: Settings, key: GatewayKey) -> Any:
    """The gateway of a key, created on first use (it takes no CPU from the jobs)."""
    import ray

    cls = ray.remote(Gateway)
    return cls.options(name=key.actor_name, lifetime="detached", get_if_exists=True,
                       num_cpus=0, max_concurrency=256, max_restarts=-1).remote(settings, key)
