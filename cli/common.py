"""Option types and helpers shared by the command modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer import _click as click  # typer's own copy of click: its commands' types
from typer.core import TyperCommand, TyperGroup

from qorch.cli import choices

if TYPE_CHECKING:
    from qorch.orchestrator.service import Service


class Command(TyperCommand):
    """A command whose help lists accepted values rather than Python types."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices.attach_completion(self)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        choices.tidy(self, ctx)
        super().format_help(ctx, formatter)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return choices.usage_pieces(self, ctx)


class Group(TyperGroup):
    """A group of commands with the same help conventions."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        choices.tidy(self, ctx)
        for command in self.commands.values():  # the listing shows each one's first paragraph
            command.help = " ".join((command.help or "").split()) or None
        super().format_help(ctx, formatter)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [*choices.usage_pieces(self, ctx), self.subcommand_metavar]


class App(typer.Typer):
    """typer.Typer whose commands and sub-apps all use `Command` and `Group`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("add_completion", False)
        kwargs.setdefault("pretty_exceptions_enable", False)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)

JobId = Annotated[str, typer.Argument(help="Job id (or a unique prefix of 4+ characters).",
                                      metavar="JOB")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print only JSON.")]
RayAddress = Annotated[str | None, typer.Option(
    "--ray-address", help="Join this Ray cluster (HOST:PORT); default RAY_ADDRESS, else this "
                          "QORCH_HOME's own local cluster.")]
AllUsers = Annotated[bool, typer.Option(
    "--all-users", help="Every owner's jobs (changing them needs the store's permission).")]
Detach = Annotated[bool, typer.Option("--detach", help="Print the job id and return at once.")]
DryRun = Annotated[bool, typer.Option(
    "--dry-run", help="Print circuits, provider jobs, shots and cost; create no job.")]
Cpus = Annotated[float, typer.Option(
    help="CPUs the job asks the cluster for (torch threads follow; a fraction such as 0.25 "
         "suits a job that mostly waits for a provider); it waits QUEUED until Ray has them.")]
MaxRestarts = Annotated[int, typer.Option(
    help="Times Ray restarts the job from its checkpoint when its actor or node dies.")]
Resources = Annotated[str | None, typer.Option(
    help="Custom Ray resources the job needs, e.g. qpu_bridge=1 (places it on such a node).")]


def service() -> Service:
    """The facade, with settings read from the environment once."""
    from qorch.orchestrator.service import Service
    from qorch.orchestrator.settings import Settings

    return Service(Settings.from_env())


def words(text: str) -> list[str]:
    return [word.strip() for word in text.split(",") if word.strip()]


def labels(text: str) -> list[int]:
    try:
        return [int(word) for word in words(text)]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated labels 0..9 like 0,1; got {text!r}",
                                 param_hint="--classes") from None


def pairs(text: str) -> dict[str, float]:
    """NAME=AMOUNT,... for --resources."""
    out: dict[str, float] = {}
    for word in words(text):
        name, sep, amount = word.partition("=")
        try:
            out[name.strip()] = float(amount) if sep else float("nan")
        except ValueError:
            out[name.strip()] = float("nan")
        if not sep or not name.strip() or out[name.strip()] != out[name.strip()]:
            raise typer.BadParameter(f"expected NAME=AMOUNT pairs like qpu_bridge=1; got "
                                     f"{text!r}", param_hint="--resources")
    return out


def after_submit(job_id: str, detach: bool) -> None:
    """Detached: print the id. Attached: follow the job until it ends; exit 1 unless it
    succeeded. The job runs on the cluster either way: this process only watches it."""
    from qorch.cli import progress
    from qorch.cli.interrupts import follow_until_done

    disconnect_ray()
    if detach:
        print(job_id)
        return
    job = follow_until_done(service(), job_id)
    progress.final_line(job)
    if job.state.value != "SUCCEEDED":
        raise typer.Exit(1)


def disconnect_ray() -> None:
    """Leave the cluster: a follower needs only the store (and Ray's own signal handling would
    turn a SIGTERM into a stack dump)."""
    import sys

    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            ray.shutdown()
