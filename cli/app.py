"""`qorch` commands: submit, list, status, logs, cancel, resume, db upgrade."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli import render
from cli.errors import report

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Train and evaluate hybrid quantum-classical classifiers as jobs.")
submit_app = typer.Typer(no_args_is_help=True, help="Submit a job.")
db_app = typer.Typer(no_args_is_help=True, help="Manage the SQL store.")
app.add_typer(submit_app, name="submit")
app.add_typer(db_app, name="db")

JobId = Annotated[str, typer.Argument(help="Job id (or a unique prefix of 4+ characters).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print only JSON.")]
RayAddress = Annotated[str | None, typer.Option(
    "--ray-address", help="Ray cluster address; default RAY_ADDRESS, else embedded local Ray.")]
Detach = Annotated[bool, typer.Option("--detach", help="Return the job id at once.")]


def _settings():  # type: ignore[no-untyped-def]
    from orchestrator.settings import load_settings

    return load_settings()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    """qorch: hybrid quantum-classical training jobs on simulators and quantum hardware."""
    _State.debug = debug


class _State:
    debug = False


@submit_app.command("train")
def submit_train(
    dataset: Annotated[str, typer.Option(help="mnist or fashion-mnist.")] = "mnist",
    model: Annotated[str, typer.Option(help="Model: cnn.")] = "cnn",
    epochs: Annotated[int, typer.Option(help="Passes over the training data.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Images per training step.")] = 64,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    train_size: Annotated[int | None, typer.Option(help="Use the first N training images.")] = None,
    test_size: Annotated[int | None, typer.Option(help="Use the first N test images.")] = None,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same metrics.")] = 0,
    backend: Annotated[str, typer.Option(help="Where circuits run (see `qorch backends`).")] = (
        "statevector"),
    checkpoint_every: Annotated[int, typer.Option(
        help="Also checkpoint every N steps (0: at each epoch only).")] = 0,
    threads: Annotated[int | None, typer.Option(
        help="CPU threads for the job (default: all of this machine's on embedded Ray).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        help="Folder with the IDX .gz files; default QORCH_DATA_DIR, else a download cache.")
    ] = None,
    ray_address: RayAddress = None,
    detach: Detach = False,
) -> None:
    """Train a classifier as a job; attached runs show a progress bar."""
    from jobs.spec import TrainSpec
    from orchestrator.submit import submit

    settings = _settings()
    chosen_dir = data_dir or settings.data_dir
    spec = TrainSpec(
        dataset=dataset, model=model, epochs=epochs, batch_size=batch_size, lr=lr,
        train_size=train_size, test_size=test_size, seed=seed, backend=backend,
        checkpoint_every=checkpoint_every, threads=threads,
        data_dir=str(chosen_dir.expanduser().resolve()) if chosen_dir else None,
    )
    launched = submit(settings, spec, address=ray_address, detach=detach)
    _after_launch(settings, launched, detach)


def _after_launch(settings, launched, detach: bool) -> None:  # type: ignore[no-untyped-def]
    from orchestrator.submit import follow

    if detach:
        print(launched.job_id)
        return
    job = render.follow_with_progress(settings, launched, follow)
    render.final_line(job)
    if job.state != "SUCCEEDED":
        raise typer.Exit(1)


@app.command("list")
def list_jobs(
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="Only jobs in this state (repeatable).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many jobs, newest first.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List jobs, newest first."""
    from orchestrator.service import list_jobs as list_
    from orchestrator.states import parse_state

    try:
        states = [parse_state(s) for s in state or []]
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--state") from None
    if limit < 1:
        raise typer.BadParameter(f"must be at least 1; got {limit}", param_hint="--limit")
    jobs = list_(_settings(), states, limit)
    if as_json:
        print(json.dumps([render.job_dict(j) for j in jobs], indent=2))
    else:
        render.jobs_table(jobs)


@app.command()
def status(job_id: JobId, as_json: JsonFlag = False) -> None:
    """Spec, state, phase, progress, latest metrics and timings of a job."""
    from orchestrator.service import status as status_

    info = status_(_settings(), job_id)
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
    from orchestrator.service import new_records

    render.stream_logs(_settings(), job_id, new_records, follow)


@app.command()
def cancel(job_id: JobId) -> None:
    """Stop a job: queued jobs end at once, running ones at their next step."""
    from orchestrator.service import cancel as cancel_

    state = cancel_(_settings(), job_id)
    print(f"{job_id}: {state.value}")


@app.command()
def resume(job_id: JobId, ray_address: RayAddress = None, detach: Detach = False) -> None:
    """Continue an INTERRUPTED job from its latest checkpoint."""
    from orchestrator.submit import resume as resume_

    settings = _settings()
    _after_launch(settings, resume_(settings, job_id, address=ray_address, detach=detach), detach)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to the store (also done on first use)."""
    from orchestrator.service import upgrade_database

    print(upgrade_database(_settings()))


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
