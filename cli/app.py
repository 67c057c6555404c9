"""`qorch` commands: submit, list, status, logs, metrics, wait, cancel, resume, delete, prune,
compare, report, recipes, backends, cluster, db."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Annotated

import typer

from qorch.cli import exports, render, tables
from qorch.cli.cluster_view import cluster_view
from qorch.cli.common import AllUsers, App, JobId, JsonFlag, RayAddress, after_submit, service
from qorch.cli.compare import compare as compare_command
from qorch.cli.compare import report as report_command
from qorch.cli.errors import report
from qorch.cli.recipes import recipes as recipes_command
from qorch.cli.status_view import status_view
from qorch.cli.submit import submit_app

app = App(add_completion=True,
          help="Train and evaluate hybrid quantum-classical classifiers as jobs.")
db_app = App(help="Manage the SQL store.")
cluster_app = App(help="This QORCH_HOME's local Ray cluster.")
app.add_typer(submit_app, name="submit")
app.command("compare")(compare_command)
app.command("report")(report_command)
app.command("recipes")(recipes_command)
for _name, _command in (("metrics", exports.metrics), ("wait", exports.wait),
                        ("delete", exports.delete), ("prune", exports.prune)):
    app.command(_name)(_command)
app.add_typer(cluster_app, name="cluster")
app.add_typer(db_app, name="db")


class _State:
    debug = False


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    """qorch: hybrid quantum-classical training jobs on simulators and quantum hardware."""
    _State.debug = debug


@app.command("list")
def list_jobs(
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="Only jobs in this state (repeatable).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many jobs, newest first.",
                                       min=1, max=100_000)] = 50,
    all_users: AllUsers = False,
    as_json: JsonFlag = False,
) -> None:
    """List your jobs (or everyone's), newest first."""
    from qorch.orchestrator.store.states import parse_state

    try:
        states = [parse_state(s) for s in state or []]
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--state") from None
    jobs = service().jobs(states, limit, all_users)
    if as_json:
        print(json.dumps([render.job_dict(j) for j in jobs], indent=2))
    else:
        tables.jobs_table(jobs)


@app.command()
def status(job_id: JobId, as_json: JsonFlag = False) -> None:
    """Spec, state, phase, progress, latest metrics and timings of a job."""
    info = service().status(job_id)
    if as_json:
        print(json.dumps(render.status_dict(info), indent=2))
    else:
        status_view(info)


@app.command()
def logs(
    job_id: JobId,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new records.")
                      ] = False,
    steps: Annotated[bool, typer.Option(
        "--steps", help="One line per step (default: one per epoch, and the events).")] = False,
    tail: Annotated[int | None, typer.Option(
        "--tail", min=1, help="Only the last N lines (then new ones, with -f).")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="One JSON record per line: events, metrics, confusion matrix.")] = False,
    worker: Annotated[bool, typer.Option(
        "--worker", help="The worker's own log file (Python logging of the job's process).")
    ] = False,
) -> None:
    """Events and metrics of a job, oldest first: one line per epoch by default."""
    from qorch.cli.logs import stream

    if worker:
        given = [name for name, on in (("--follow", follow), ("--steps", steps),
                                       ("--tail", tail is not None), ("--json", as_json)) if on]
        if given:
            raise typer.BadParameter(f"{', '.join(given)} would be ignored: --worker prints the "
                                     "worker's log file as it is", param_hint="--worker")
        print(service().worker_log(job_id), end="")
        return
    stream(service(), job_id, follow=follow, steps=steps, tail=tail, as_json=as_json)


@app.command()
def cancel(job_id: JobId, all_users: AllUsers = False) -> None:
    """Stop a job: queued jobs end at once, running ones at their next step."""
    state = service().cancel(job_id, all_users)
    print(f"{job_id}: {state.value}")


@app.command()
def resume(
    job_id: JobId, ray_address: RayAddress = None,
    detach: Annotated[bool, typer.Option("--detach", help="Print the job id and return.")
                      ] = False,
    all_users: AllUsers = False,
) -> None:
    """Continue an INTERRUPTED or FAILED job from its latest checkpoint."""
    after_submit(service().resume(job_id, ray_address=ray_address, all_users=all_users), detach)


@app.command()
def backends(
    as_json: JsonFlag = False,
    show_all: Annotated[bool, typer.Option("--all", help="Every fake device too, one a row.")
                        ] = False,
) -> None:
    """Backends you can name with --backend, grouped: simulators, emulators, IBM, Braket."""
    from qorch.cli.backends_view import backends_view

    if as_json and show_all:
        raise typer.BadParameter("--all would be ignored: --json lists every backend",
                                 param_hint="--all")
    rows = [dataclasses.asdict(r) for r in service().backends()]
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        backends_view(rows, show_all)


@cluster_app.command("up")
def cluster_up() -> None:
    """Start this QORCH_HOME's local Ray cluster (jobs start it on demand too)."""
    print(service().cluster_up())


@cluster_app.command("down")
def cluster_down() -> None:
    """Stop this QORCH_HOME's local Ray cluster and every process it started."""
    print(service().cluster_down())


@cluster_app.command("status")
def cluster_status(as_json: JsonFlag = False) -> None:
    """Nodes, CPUs, memory, running and waiting jobs of the cluster."""
    info = service().cluster_status()
    if as_json:
        print(json.dumps(info, indent=2))
    else:
        cluster_view(info)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to the store (also done on first use)."""
    print(service().upgrade_database())


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
