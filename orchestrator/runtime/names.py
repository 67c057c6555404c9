"""Names of qorch's actors on a cluster (all in the `qorch` Ray namespace)."""

from __future__ import annotations

JOB_ACTOR_PREFIX = "qorch-job-"
SUPERVISOR = "qorch-supervisor"
GATEWAY_PREFIX = "qorch-gateway-"
SIMULATOR_PREFIX = "qorch-simulator-"


def job_actor(job_id: str) -> str:
    return f"{JOB_ACTOR_PREFIX}{job_id}"
