"""Ctrl-C and SIGTERM on an attached run: cancel and wait, or leave the job running, cleanly."""

from __future__ import annotations

import contextlib
import signal
import sys
from types import FrameType
from typing import Any

import typer

from qorch.orchestrator.errors import InvalidTransitionError


def _terminated(job_id: str) -> Any:
    def handler(signum: int, frame: FrameType | None) -> None:
        print(f"\nqorch: terminated; job {job_id} keeps running on the cluster "
              f"(`qorch logs -f {job_id}` follows it, `qorch cancel {job_id}` stops it)",
              file=sys.stderr)
        raise SystemExit(143)

    return handler


def follow_until_done(service: Any, job_id: str) -> Any:
    """Follow a job. The first Ctrl-C cancels it and waits for it to stop; a second leaves it
    running and says how to follow or cancel it. SIGTERM leaves it running, without a trace."""
    from qorch.cli import progress

    signal.signal(signal.SIGTERM, _terminated(job_id))
    cancelled = False
    while True:
        try:
            job = progress.follow(service, job_id)
            if cancelled:  # stopped because the user asked, with Ctrl-C
                progress.final_line(job)
                raise typer.Exit(130)
            return job
        except KeyboardInterrupt:
            if cancelled:
                print(f"\nqorch: left job {job_id} running; `qorch logs -f {job_id}` follows "
                      f"it, `qorch cancel {job_id}` stops it", file=sys.stderr)
                raise typer.Exit(130) from None
            cancelled = True
            print(f"\nqorch: cancelling job {job_id} (Ctrl-C again leaves it running)",
                  file=sys.stderr)
            with contextlib.suppress(InvalidTransitionError):  # it ended meanwhile
                service.cancel(job_id)
