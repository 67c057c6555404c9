"""Attempts (fencing), state and status CHECKs, one metric per step, ledger seeds and items.

Also rewrites stored specs to the model-defaults form: `threads` becomes `cpus`, and options a
model would ignore (quantum options on cnn, a trunk on qnn) are cleared.

Revision ID: 0004_attempts_and_checks
Revises: 0003_executions
Create Date: 2026-11-29
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004_attempts_and_checks"
down_revision = "0003_executions"
branch_labels = None
depends_on = None

CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
STATES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLING", "CANCELLED", "INTERRUPTED")
STATUSES = ("PENDING", "SUBMITTED", "DONE", "FAILED", "CANCELLED", "SUPERSEDED")
QUANTUM = ("qubits", "layers", "encoding", "rotations", "entangler", "observables", "init",
           "shots", "noise", "gradient", "spsa_samples")
# What the 0003 code filled in for every model, to write back on downgrade.
OLD_DEFAULTS: dict[str, Any] = {
    "qubits": 8, "layers": 2, "encoding": "angle-ry", "rotations": "ryrz",
    "entangler": "cnot-chain", "observables": ["z", "zz"], "init": "small",
    "gradient": "parameter-shift", "spsa_samples": 1, "trunk": "lenet5",
}


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _new_train(spec: dict[str, Any]) -> dict[str, Any]:
    spec = dict(spec)
    threads = spec.pop("threads", None)
    spec.setdefault("cpus", int(threads) if threads else 1)
    model = spec.get("model", "hybrid-lenet")
    if model == "cnn":
        for name in QUANTUM:
            spec[name] = None
    if model in ("qnn", "pure-qnn"):
        spec["trunk"] = None
    if spec.get("gradient") == "parameter-shift" and spec.get("backend") == "statevector":
        spec["gradient"] = None  # the exact path was autograd whatever this said
    if spec.get("gradient") != "spsa":
        spec["spsa_samples"] = None
    return spec


def _old_train(spec: dict[str, Any]) -> dict[str, Any]:
    spec = dict(spec)
    cpus = spec.pop("cpus", None)
    spec["threads"] = cpus
    for name, value in OLD_DEFAULTS.items():
        if spec.get(name) is None:
            spec[name] = value
    return spec


def _new_infer(spec: dict[str, Any]) -> dict[str, Any]:
    spec = dict(spec)
    threads = spec.pop("threads", None)
    spec.setdefault("cpus", int(threads) if threads else 1)
    spec["trained"] = _new_train(spec.get("trained", {}))
    return spec


def _old_infer(spec: dict[str, Any]) -> dict[str, Any]:
    spec = dict(spec)
    spec["threads"] = spec.pop("cpus", None)
    spec["batch_size"] = spec.get("batch_size") or 64
    spec["trained"] = _old_train(spec.get("trained", {}))
    return spec


def _rewrite_specs(train: Any, infer: Any) -> None:
    bind = op.get_bind()
    jobs = sa.table("jobs", sa.column("id", sa.String), sa.column("kind", sa.String),
                    sa.column("spec", sa.JSON))
    for job_id, kind, raw in bind.execute(sa.select(jobs.c.id, jobs.c.kind, jobs.c.spec)).all():
        spec = json.loads(raw) if isinstance(raw, str) else dict(raw)
        spec = train(spec) if kind == "train" else infer(spec)
        bind.execute(sa.update(jobs).where(jobs.c.id == job_id).values(spec=spec))


def upgrade() -> None:
    _rewrite_specs(_new_train, _new_infer)
    with op.batch_alter_table("jobs", naming_convention=CONVENTION) as batch:
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))
        batch.create_check_constraint("job_state", f"state IN ({_in(STATES)})")
    # A resumed job could log a step twice before 0004: keep the newest value of each.
    op.execute(
        "DELETE FROM metrics WHERE id NOT IN "
        "(SELECT keep FROM (SELECT MAX(id) AS keep FROM metrics GROUP BY job_id, step, name) k)"
    )
    with op.batch_alter_table("metrics", naming_convention=CONVENTION) as batch:
        batch.create_unique_constraint("uq_metrics_job_id_step_name", ["job_id", "step", "name"])
    with op.batch_alter_table("executions", naming_convention=CONVENTION) as batch:
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("seed", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("item", sa.Integer(), nullable=False, server_default="0"))
        batch.alter_column("provider_job_id", type_=sa.Text(), existing_type=sa.String(255))
        batch.create_check_constraint("execution_status", f"status IN ({_in(STATUSES)})")


def downgrade() -> None:
    with op.batch_alter_table("executions", naming_convention=CONVENTION) as batch:
        batch.drop_constraint(op.f("ck_executions_execution_status"), type_="check")
        batch.alter_column("provider_job_id", type_=sa.String(255), existing_type=sa.Text())
        batch.drop_column("item")
        batch.drop_column("seed")
        batch.drop_column("attempt")
    with op.batch_alter_table("metrics", naming_convention=CONVENTION) as batch:
        batch.drop_constraint(op.f("uq_metrics_job_id_step_name"), type_="unique")
    with op.batch_alter_table("jobs", naming_convention=CONVENTION) as batch:
        batch.drop_constraint(op.f("ck_jobs_job_state"), type_="check")
        batch.drop_column("attempt")
    _rewrite_specs(_old_train, _old_infer)
