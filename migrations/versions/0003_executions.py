"""Executions ledger: one row per provider submission, written before it is sent.

Revision ID: 0003_executions
Revises: 0002_job_summary
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_executions"
down_revision = "0002_job_summary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "executions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("batch_index", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(128), nullable=False),
        sa.Column("template_hash", sa.String(64), nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("shots", sa.Integer(), nullable=True),
        sa.Column("n_circuits", sa.Integer(), nullable=False),
        sa.Column("provider_job_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_executions_key", "executions",
                    ["job_id", "step", "purpose", "batch_index", "chunk"])
    op.create_index("ix_executions_provider_job_id", "executions", ["provider_job_id"])


def downgrade() -> None:
    op.drop_table("executions")
