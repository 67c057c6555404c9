"""Job states and the one table of allowed transitions between them."""

from __future__ import annotations

import enum


class JobState(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    INTERRUPTED = "INTERRUPTED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    # QUEUED -> FAILED: the job could not be started (never recorded as a user's cancel).
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELLING, JobState.FAILED}),
    JobState.RUNNING: frozenset(
        {
            JobState.SUCCEEDED,
            JobState.FAILED,
            JobState.CANCELLED,
            JobState.CANCELLING,
            JobState.INTERRUPTED,
        }
    ),
    JobState.CANCELLING: frozenset({JobState.CANCELLED}),
    JobState.INTERRUPTED: frozenset({JobState.QUEUED}),
    JobState.SUCCEEDED: frozenset(),
    # A failed job keeps its checkpoints; `qorch resume` may give it a new attempt.
    JobState.FAILED: frozenset({JobState.QUEUED}),
    JobState.CANCELLED: frozenset(),
}


def is_allowed(source: JobState, target: JobState) -> bool:
    return target in TRANSITIONS[source]


def parse_state(text: str) -> JobState:
    """Parse a user-typed state name (any case); raises ValueError naming the accepted ones."""
    try:
        return JobState(text.upper())
    except ValueError:
        accepted = ", ".join(s.value.lower() for s in JobState)
        raise ValueError(f"unknown state {text!r}; accepted: {accepted}") from None
