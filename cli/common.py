"""Option types and helpers shared by the command modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from qorch.cli import render

if TYPE_CHECKING:
    from qorch.orchestrator.settings import Settings

JobId = Annotated[str, typer.Argument(help="Job id (or a unique prefix of 4+ characters).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print only JSON.")]
RayAddress = Annotated[str | None, typer.Option(
    "--ray-address", help="Ray cluster address; default RAY_ADDRESS, else embedded local Ray.")]
Detach = Annotated[bool, typer.Option("--detach", help="Return the job id at once.")]
DryRun = Annotated[bool, typer.Option(
    "--dry-run", help="Print circuits, provider jobs, shots and cost; create no job.")]


def settings() -> Settings:
    from qorch.orchestrator.settings import load_settings

    return load_settings()


def words(text: str) -> list[str]:
    return [word.strip() for word in text.split(",") if word.strip()]


def labels(text: str) -> list[int]:
    try:
        return [int(word) for word in words(text)]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated labels 0..9 like 0,1; got {text!r}",
                                 param_hint="--classes") from None


def after_launch(current: Settings, launched: Any, detach: bool) -> None:
    """Detached: print the id. Attached: progress bar until the job ends, exit 1 unless it
    succeeded."""
    from qorch.orchestrator.submit import follow

    if detach:
        print(launched.job_id)
        return
    job = render.follow_with_progress(current, launched, follow)
    render.final_line(job)
    if job.state != "SUCCEEDED":
        raise typer.Exit(1)
