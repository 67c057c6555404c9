"""The executions ledger: a row per batch, written before its provider job is sent."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from qorch.orchestrator.store.models import Execution, utcnow

PENDING, SUBMITTED, DONE, FAILED, CANCELLED, SUPERSEDED = (
    "PENDING", "SUBMITTED", "DONE", "FAILED", "CANCELLED", "SUPERSEDED")


@dataclass(frozen=True)
class LedgerKey:
    """Where a batch sits in its job: the same key on a resumed run names the same batch."""

    job_id: str
    step: int
    purpose: str
    batch_index: int
    chunk: int

    @property
    def tag(self) -> str:
        """The label sent with the provider job, so a lost submission can be found again."""
        return (f"qorch:{self.job_id}:{self.step}:{self.purpose}:{self.batch_index}:"
                f"{self.chunk}")


def find(session: Session, key: LedgerKey) -> Execution | None:
    """The newest row of a key (older ones were superseded, failed or cancelled)."""
    query = (
        select(Execution)
        .where(Execution.job_id == key.job_id, Execution.step == key.step,
               Execution.purpose == key.purpose, Execution.batch_index == key.batch_index,
               Execution.chunk == key.chunk)
        .order_by(Execution.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def record_pending(session: Session, key: LedgerKey, *, attempt: int, backend: str,
                   template_hash: str, params_hash: str, seed: int | None, shots: int | None,
                   n_circuits: int) -> int:
    row = Execution(job_id=key.job_id, attempt=attempt, step=key.step, purpose=key.purpose,
                    batch_index=key.batch_index, chunk=key.chunk, backend=backend,
                    template_hash=template_hash, params_hash=params_hash, seed=seed,
                    shots=shots, n_circuits=n_circuits, status=PENDING, created_at=utcnow())
    session.add(row)
    session.flush()
    return row.id


def mark_submitted(session: Session, row_id: int, provider_job_id: str, item: int) -> None:
    session.execute(update(Execution).where(Execution.id == row_id).values(
        provider_job_id=provider_job_id, item=item, status=SUBMITTED, submitted_at=utcnow()))


def mark_done(session: Session, row_id: int, outputs: np.ndarray | None) -> None:
    """DONE; `outputs` kept only when given (what a provider was paid for): a seeded local
    simulator re-runs the batch bit for bit from its seed instead."""
    result = None
    if outputs is not None:
        buffer = io.BytesIO()
        np.save(buffer, outputs.astype(np.float64), allow_pickle=False)
        result = buffer.getvalue()
    session.execute(update(Execution).where(Execution.id == row_id).values(
        status=DONE, finished_at=utcnow(), result=result))


def mark_ended(session: Session, row_id: int, status: str, error: str | None) -> None:
    session.execute(update(Execution).where(Execution.id == row_id).values(
        status=status, finished_at=utcnow(), error=error))


def outputs_of(row: Execution) -> np.ndarray:
    outputs: np.ndarray = np.load(io.BytesIO(row.result or b""), allow_pickle=False)
    return outputs


def usage(session: Session, job_id: str, purpose: str | None = None) -> dict[str, int]:
    """Provider jobs, circuits and shots spent so far (every batch that reached a provider),
    for one purpose of the job when given."""
    query = (
        select(func.count(func.distinct(Execution.provider_job_id)),
               func.coalesce(func.sum(Execution.n_circuits), 0),
               func.coalesce(func.sum(Execution.n_circuits * func.coalesce(Execution.shots, 0)),
                             0))
        .where(Execution.job_id == job_id, Execution.provider_job_id.is_not(None),
               Execution.status != SUPERSEDED)
    )
    if purpose is not None:
        query = query.where(Execution.purpose == purpose)
    row = session.execute(query).one()
    return {"provider_jobs": int(row[0]), "circuits": int(row[1]), "shots": int(row[2])}


def recent(session: Session, job_id: str, limit: int = 10) -> list[Execution]:
    query = select(Execution).where(Execution.job_id == job_id)
    return list(session.scalars(query.order_by(Execution.id.desc()).limit(limit)))


def ledger_bytes(session: Session, job_id: str) -> int:
    """Bytes of results the ledger keeps for a job (the lean-ledger figure)."""
    total = session.scalar(select(func.coalesce(func.sum(func.length(Execution.result)), 0))
                           .where(Execution.job_id == job_id))
    return int(total or 0)
