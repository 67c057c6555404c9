"""Alembic environment and revisions of the qorch store; HEAD_REVISION is the newest one."""

HEAD_REVISION = "0003_executions"
