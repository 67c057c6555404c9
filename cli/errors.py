"""The one table mapping exceptions to a one-line message and an exit code."""

from __future__ import annotations

import sys
import traceback

import typer

USAGE, RUNTIME = 2, 1


def exit_code_for(err: BaseException) -> int | None:
    """Exit code of an expected error, or None for a bug (which keeps its traceback)."""
    from qorch.backends.errors import BackendError, CapabilityError, NoiseSpecError, TemplateError
    from qorch.jobs.errors import DatasetError, JobError, SpecError
    from qorch.orchestrator.errors import OrchestratorError

    if isinstance(err, typer.TyperException):  # click's usage errors, vendored by typer
        return int(getattr(err, "exit_code", USAGE))
    table: list[tuple[type[BaseException], int]] = [
        (SpecError, USAGE),
        (TemplateError, USAGE),
        (NoiseSpecError, USAGE),
        (CapabilityError, USAGE),
        (DatasetError, RUNTIME),
        (JobError, RUNTIME),
        (BackendError, RUNTIME),
        (OrchestratorError, RUNTIME),
    ]
    for kind, code in table:
        if isinstance(err, kind):
            return code
    return None


def report(err: BaseException, debug: bool) -> int:
    code = exit_code_for(err)
    if debug or code is None:  # a bug keeps its traceback
        traceback.print_exception(err, file=sys.stderr)
    format_message = getattr(err, "format_message", None)
    message = format_message() if callable(format_message) else str(err)
    if code is not None and not message.strip():  # e.g. bare `qorch`: help was printed
        return code
    first = message.strip().splitlines()[0] if message.strip() else type(err).__name__
    if code is None:
        print(f"qorch: internal error: {type(err).__name__}: {first}", file=sys.stderr)
        return RUNTIME
    print(f"qorch: error: {first}", file=sys.stderr)
    return code
