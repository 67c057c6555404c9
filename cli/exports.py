"""`qorch metrics` (CSV, JSON or a summary), `qorch wait`, `qorch delete` and `qorch prune`."""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from qorch.cli.common import AllUsers, JobId, service
from qorch.cli.render import console

AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
TIMED_OUT = 124  # as timeout(1): the job is still going


def metrics(
    job_id: JobId,
    as_csv: Annotated[bool, typer.Option("--csv", help="Every record as CSV: step, epoch, "
                                                       "name, value, at.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Every record as a JSON list.")
                       ] = False,
) -> None:
    """A job's metrics: a summary per name, or every record for other programs."""
    if as_csv and as_json:
        raise typer.BadParameter("give one of --csv or --json", param_hint="--csv")
    records = service().metrics(job_id)
    rows = [{"step": m.step, "epoch": m.epoch, "name": m.name, "value": m.value,
             "at": m.at.isoformat()} for m in records]
    if as_json:
        print(json.dumps(rows, indent=2))
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=["step", "epoch", "name", "value", "at"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        _summary(rows)


def _summary(rows: list[dict[str, object]]) -> None:
    if not rows:
        console.print("no metrics yet")
        return
    by_name: dict[str, list[float]] = {}
    for row in rows:
        by_name.setdefault(str(row["name"]), []).append(float(str(row["value"])))
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("metric", "records", "first", "last", "min", "max"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name, values in by_name.items():
        table.add_row(name, str(len(values)), *(f"{v:.4g}" for v in (
            values[0], values[-1], min(values), max(values))))
    console.print(table)
    console.print("(--csv or --json: every record)")


def wait(
    job_id: JobId,
    timeout: Annotated[float | None, typer.Option(
        min=0, help="Give up after this many seconds (exit 124).")] = None,
) -> None:
    """Block until a job ends; exit 0 if it SUCCEEDED, 1 if it FAILED or was CANCELLED."""
    from qorch.cli.progress import final_line
    from qorch.orchestrator.errors import WaitTimeoutError

    try:
        job = service().wait(job_id, timeout)
    except WaitTimeoutError as err:
        print(f"qorch: {err}", file=sys.stderr)
        raise typer.Exit(TIMED_OUT) from None
    final_line(job)
    if job.state.value != "SUCCEEDED":
        raise typer.Exit(1)


def delete(
    job_ids: Annotated[list[str], typer.Argument(
        help="Finished jobs (SUCCEEDED, FAILED or CANCELLED) to delete.", metavar="JOB...")],
    all_users: AllUsers = False,
) -> None:
    """Delete finished jobs: their rows, metrics, ledger and checkpoint files."""
    for item in service().delete(job_ids, all_users):
        print(f"deleted {item.job_id} ({item.state}, {item.checkpoints} checkpoints)")


def parse_age(text: str) -> timedelta:
    """`90s`, `30m`, `12h`, `7d`, `2w`."""
    match = AGE.match(text.strip().lower())
    if not match:
        raise typer.BadParameter(f"{text!r} is not an age like 30m, 12h, 7d or 2w",
                                 param_hint="--older-than")
    return timedelta(seconds=float(match.group(1)) * UNITS[match.group(2)])


def prune(
    older_than: Annotated[str, typer.Option(
        "--older-than", help="Delete finished jobs that ended longer ago than this: 30m, 12h, "
                             "7d, 2w.")],
    finished: Annotated[list[str] | None, typer.Option(
        "--state", help="Only jobs in this state (repeatable): succeeded, failed, cancelled.")
    ] = None,
    all_users: AllUsers = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")
                       ] = False,
) -> None:
    """Delete old finished jobs with their checkpoints (yours; --all-users: everyone's)."""
    from qorch.orchestrator.store.states import parse_state

    age = parse_age(older_than)
    try:
        states = [parse_state(s) for s in finished or []]
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--state") from None
    removed = service().prune(age, states, all_users, dry_run)
    verb = "would delete" if dry_run else "deleted"
    for item in removed:
        print(f"{verb} {item.job_id} ({item.state}, {item.checkpoints} checkpoints)")
    print(f"{verb} {len(removed)} job{'' if len(removed) == 1 else 's'}")
