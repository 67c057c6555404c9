"""The job's side of the gateway: send a batch there, and a JobHandle over its provider job."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from qorch.backends.contract import Backend, CircuitBatch, JobHandle
from qorch.backends.errors import ProviderJobError
from qorch.jobs.errors import JobStopped
from qorch.orchestrator.runtime.executor import POLL_SECONDS, Sender
from qorch.orchestrator.runtime.gateway import GatewayClosedError, GatewayKey, gateway_actor
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store.ledger import LedgerKey

SEND_TRIES = 3


class GatewayHandle(JobHandle):
    """A provider job held by the gateway. If the gateway is lost, the job re-attaches to the
    provider itself (`fallback`: its own adapter's retrieve)."""

    def __init__(self, gateway: Any, provider_job_id: str, item: int,
                 fallback: Callable[[], JobHandle]) -> None:
        self._gateway, self._id, self._item = gateway, provider_job_id, item
        self._fallback_of = fallback
        self._direct: JobHandle | None = None

    @property
    def provider_job_id(self) -> str:
        return self._id

    def _ask(self, method: str, *args: Any) -> Any:
        import ray

        if self._direct is None:
            try:
                return ray.get(getattr(self._gateway, method).remote(self._id, *args))
            except (ray.exceptions.RayActorError, ray.exceptions.RayTaskError):
                self._direct = self._fallback_of()
        return None

    def status(self) -> str:
        answer = self._ask("status")
        return str(answer) if self._direct is None else self._direct.status()

    def phase(self) -> str | None:
        answer = self._ask("phase")
        return answer if self._direct is None else self._direct.phase()

    def result(self, item: int = 0, timeout: float | None = None) -> np.ndarray:
        outputs = self._ask("wait", item, timeout if timeout is not None else 3600.0)
        if self._direct is not None:
            return self._direct.result(item, timeout)
        if outputs is None:
            raise TimeoutError(f"provider job {self._id} still running")
        return np.asarray(outputs)

    def cancel(self) -> None:
        self._ask("cancel")
        if self._direct is not None:
            self._direct.cancel()


def _answer(gateway: Any, part: CircuitBatch, tag: str, still_wanted: Callable[[], bool]
            ) -> Any:
    """The gateway's answer, polling so the job keeps its heartbeat while its batch is queued.
    A job that stops meanwhile takes its batch back; if the gateway already took it for a
    provider job, the answer (that job's id) is still recorded, so nothing sent is lost."""
    import ray

    ref = gateway.send.remote(part, tag)
    while not ray.wait([ref], timeout=POLL_SECONDS)[0]:
        if not still_wanted() and ray.get(gateway.withdraw.remote(tag)):
            raise JobStopped("stopped while the batch waited at the gateway")
    return ray.get(ref)


def gateway_sender(settings: Settings, backend: Backend, noise: str | None) -> Sender:
    """Send through the gateway of (backend, shots, noise): batches of every job coalesced."""
    import ray

    def send(part: CircuitBatch, key: LedgerKey, still_wanted: Callable[[], bool]
             ) -> tuple[str, int, JobHandle]:
        for _ in range(SEND_TRIES):
            gateway = gateway_actor(settings, GatewayKey.of(backend, part.shots, noise))
            try:
                provider_job_id, item = _answer(gateway, part, key.tag, still_wanted)
            except GatewayClosedError:  # closed when idle, before taking it: ask a new one
                continue
            except ray.exceptions.RayActorError:
                # The gateway died holding the batch: it may have reached the provider.
                found = backend.find_tagged(key.tag)
                if found is None:
                    continue
                provider_job_id, item = found
                return provider_job_id, item, backend.retrieve(provider_job_id, part, item)
            fallback = partial(backend.retrieve, provider_job_id, part, item)
            return provider_job_id, item, GatewayHandle(gateway, provider_job_id, item, fallback)
        raise ProviderJobError(f"the gateway of {backend.name} went away {SEND_TRIES} times "
                               "before taking the batch")

    return send
