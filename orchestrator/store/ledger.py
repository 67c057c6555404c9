"""The executions ledger: rows written before a provider submission, updated as it proceeds."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from qorch.orchestrator.store.models import Execution, utcnow

PENDING, SUBMITTED, DONE, FAILED, CANCELLED = "PENDING", "SUBMITTED", "DONE", "FAILED", "CANCELLED"


@dataclass(frozen=True)
class LedgerKey:
    job_id: str
    step: int
    purpose: str
    batch_index: int
    chunk: int


def find(session: Session, key: LedgerKey) -> Execution | None:
    query = (
        select(Execution)
        .where(Execution.job_id == key.job_id, Execution.step == key.step,
               Execution.purpose == key.purpose, Execution.batch_index == key.batch_index,
               Execution.chunk == key.chunk)
        .order_by(Execution.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def record_pending(session: Session, key: LedgerKey, *, backend: str, template_hash: str,
                   params_hash: str, shots: int | None, n_circuits: int) -> int:
    row = Execution(job_id=key.job_id, step=key.step, purpose=key.purpose,
                    batch_index=key.batch_index, chunk=key.chunk, backend=backend,
                    template_hash=template_hash, params_hash=params_hash, shots=shots,
                    n_circuits=n_circuits, status=PENDING, created_at=utcnow())
    session.add(row)
    session.flush()
    return row.id


def mark_submitted(session: Session, row_id: int, provider_job_id: str) -> None:
    session.execute(update(Execution).where(Execution.id == row_id).values(
        provider_job_id=provider_job_id, status=SUBMITTED, submitted_at=utcnow()))


def mark_done(session: Session, row_id: int, outputs: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, outputs.astype(np.float64), allow_pickle=False)
    session.execute(update(Execution).where(Execution.id == row_id).values(
        status=DONE, finished_at=utcnow(), result=buffer.getvalue()))


def mark_ended(session: Session, row_id: int, status: str, error: str | None) -> None:
    session.execute(update(Execution).where(Execution.id == row_id).values(
        status=status, finished_at=utcnow(), error=error))


def outputs_of(row: Execution) -> np.ndarray:
    return np.load(io.BytesIO(row.result or b""), allow_pickle=False)


def usage(session: Session, job_id: str) -> dict[str, int]:
    """Provider jobs and shots spent so far (every submission that reached the provider)."""
    sent = Execution.provider_job_id.is_not(None)
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(Execution.n_circuits), 0),
               func.coalesce(func.sum(Execution.n_circuits * func.coalesce(Execution.shots, 0)),
                             0))
        .where(Execution.job_id == job_id, sent)
    ).one()
    return {"provider_jobs": int(row[0]), "circuits": int(row[1]), "shots": int(row[2])}


def recent(session: Session, job_id: str, limit: int = 10) -> list[Execution]:
    query = select(Execution).where(Execution.job_id == job_id)
    return list(session.scalars(query.order_by(Execution.id.desc()).limit(limit)))
