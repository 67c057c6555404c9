"""`qorch` commands: submit, list, status, logs, cancel, resume, backends, db upgrade."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from qorch.cli import render
from qorch.cli.common import Detach, JobId, JsonFlag, RayAddress, after_launch, settings
from qorch.cli.errors import report
from qorch.cli.submit import submit_app

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Train and evaluate hybrid quantum-classical classifiers as jobs.")
db_app = typer.Typer(no_args_is_help=True, help="Manage the SQL store.")
app.add_typer(submit_app, name="submit")
app.add_typer(db_app, name="db")



@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    """qorch: hybrid quantum-classical training jobs on simulators and quantum hardware."""
    _State.debug = debug


class _State:
    debug = False


@app.command("list")
def list_jobs(
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="Only jobs in this state (repeatable).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many jobs, newest first.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List jobs, newest first."""
    from qorch.orchestrator.service import list_jobs as list_
    from qorch.orchestrator.store.states import parse_state

    try:
        states = [parse_state(s) for s in state or []]
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--state") from None
    if limit < 1:
        raise typer.BadParameter(f"must be at least 1; got {limit}", param_hint="--limit")
    jobs = list_(settings(), states, limit)
    if as_json:
        print(json.dumps([render.job_dict(j) for j in jobs], indent=2))
    else:
        render.jobs_table(jobs)


@app.command()
def status(job_id: JobId, as_json: JsonFlag = False) -> None:
    """Spec, state, phase, progress, latest metrics and timings of a job."""
    from qorch.orchestrator.service import status as status_

    info = status_(settings(), job_id)
    if as_json:
        print(json.dumps(render.status_dict(info), indent=2))
    else:
        render.status_view(info)


@app.command()
def logs(
    job_id: JobId,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new records.")
                      ] = False,
) -> None:
    """Events and metrics of a job, oldest first."""
    from qorch.orchestrator.service import new_records

    render.stream_logs(settings(), job_id, new_records, follow)


@app.command()
def cancel(job_id: JobId) -> None:
    """Stop a job: queued jobs end at once, running ones at their next step."""
    from qorch.orchestrator.service import cancel as cancel_

    state = cancel_(settings(), job_id)
    print(f"{job_id}: {state.value}")


@app.command()
def resume(job_id: JobId, ray_address: RayAddress = None, detach: Detach = False) -> None:
    """Continue an INTERRUPTED job from its latest checkpoint."""
    from qorch.orchestrator.submit import resume as resume_

    current = settings()
    after_launch(current, resume_(current, job_id, address=ray_address, detach=detach), detach)


@app.command()
def backends(as_json: JsonFlag = False) -> None:
    """Backends you can name with --backend: kind, qubits, noise, credentials, retired devices."""
    from qorch.backends.registry import describe_all

    rows = describe_all()
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        render.backends_table(rows)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to the store (also done on first use)."""
    from qorch.orchestrator.service import upgrade_database

    print(upgrade_database(settings()))


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        print("qorch: aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as err:
        sys.exit(report(err, _State.debug or "--debug" in sys.argv))
    sys.exit(code if isinstance(code, int) else 0)
