"""`qorch compare`: one trained model on several backends (a job), or trained models side by
side; `qorch report`: a job's pictures and index page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from qorch.cli.common import (
    Cpus,
    Detach,
    JsonFlag,
    MaxRestarts,
    RayAddress,
    after_submit,
    service,
)


def compare(
    jobs: Annotated[list[str] | None, typer.Argument(
        help="Two or more SUCCEEDED training jobs to compare side by side.",
        metavar="[JOB]...")] = None,
    source: Annotated[str | None, typer.Option(
        "--from", help="A SUCCEEDED training job to evaluate on every --backends entry.")
    ] = None,
    backends: Annotated[str | None, typer.Option(
        help="Backends to compare, comma-separated, each with optional :NOISE, e.g. "
             "statevector,aer:depol2=0.02,fake_brisbane.")] = None,
    reference: Annotated[str | None, typer.Option(
        help="The backend the others are paired against (default: the first listed).")
    ] = None,
    shots: Annotated[int | None, typer.Option(
        help="Shots per circuit (exact backends: exact unless given).")] = None,
    test_size: Annotated[int | None, typer.Option(help="Use the first N test images.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the shot sampling and the bootstrap.")] = 0,
    cpus: Cpus = 1,
    max_restarts: MaxRestarts = 3,
    out: Annotated[Path | None, typer.Option(
        help="Side by side: write the overlaid training curves (PNG) into this folder.")
    ] = None,
    ray_address: RayAddress = None,
    detach: Detach = False,
    as_json: JsonFlag = False,
) -> None:
    """Compare backends on one trained model (`--from JOB --backends ...`, a job), or trained
    models side by side (`qorch compare JOB1 JOB2 ...`)."""
    from qorch.jobs.compare.spec import parse_backends

    if source is not None:
        if jobs:
            raise typer.BadParameter("give either --from JOB --backends ... or JOB1 JOB2 ...",
                                     param_hint="JOB")
        if backends is None:
            raise typer.BadParameter("--from needs --backends, e.g. statevector,fake_brisbane",
                                     param_hint="--backends")
        if out is not None:
            raise typer.BadParameter("--out applies to models side by side; `qorch report "
                                     "JOB` draws a comparison job", param_hint="--out")
        tokens = tuple(str(t) for t in parse_backends(backends))
        spec = service().compare_spec(source, dict(
            backends=tokens, reference=reference, shots=shots, test_size=test_size, seed=seed,
            cpus=cpus, max_restarts=max_restarts))
        job_id = service().submit(spec, ray_address=ray_address)
        after_submit(job_id, detach)
        if not detach:
            comparison_view(dict(service().job(job_id).result or {}))
        return
    given = {"--backends": backends, "--reference": reference, "--shots": shots,
             "--test-size": test_size}
    ignored = [name for name, value in given.items() if value is not None]
    if ignored or detach:
        raise typer.BadParameter(f"{', '.join(ignored or ['--detach'])} would be ignored: they "
                                 "apply to backend comparisons (--from JOB)")
    if not jobs or len(jobs) < 2:
        raise typer.BadParameter("compare two or more training jobs, or use --from JOB "
                                 "--backends ...", param_hint="JOB")
    result = service().compare_trained(jobs, out)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        models_view(result)


def report(
    job_id: Annotated[str, typer.Argument(help="A SUCCEEDED job.", metavar="JOB")],
    out: Annotated[Path | None, typer.Option(
        help="Folder for the pictures and index.md (default QORCH_HOME/reports/JOB).")] = None,
) -> None:
    """Pictures of a job (loss, accuracy, confusion matrix, predictions, circuit; a
    comparison's bar chart) and an index page tying them to its spec and numbers."""
    print(service().report(job_id, out))


def _percent(row: dict[str, Any]) -> str:
    return f"{row['value']:.1%} [{row['low']:.1%}, {row['high']:.1%}]"


def _interval(low: float, high: float, signed: bool = False) -> str:
    sign = "+" if signed else ""
    return f"{low * 100:{sign}.1f}..{high * 100:{sign}.1f}"


def comparison_view(result: dict[str, Any]) -> None:
    """A backend comparison: accuracy with intervals, paired against the reference; fits 80
    columns (long backend tokens fold)."""
    from qorch.cli.render import console

    if not result.get("backends"):
        return
    table = Table(title=f"against {result['reference']} on {result['test_images']} images "
                        "(95 % intervals, in %)", box=None, title_justify="left")
    for column in ("backend", "acc", "interval", "Δ", "Δ interval", "McNemar p", "|Δ| out",
                   "jobs"):
        table.add_column(column, overflow="fold", justify="left" if column == "backend"
                         else "right")
    for row in result["backends"]:
        accuracy, versus = row["accuracy"], row.get("vs_reference")
        table.add_row(
            row["backend"], f"{accuracy['value']:.1%}",
            _interval(accuracy["low"], accuracy["high"]),
            f"{versus['difference'] * 100:+.1f}" if versus else "ref",
            _interval(versus["low"], versus["high"], signed=True) if versus else "",
            f"{versus['mcnemar_p']:.3g}" if versus else "",
            f"{row['output_delta']['mean_abs']:.3g}" if row.get("output_delta") else "",
            str((row.get("usage") or {}).get("provider_jobs", "")))
    console.print(table)


def models_view(result: dict[str, Any]) -> None:
    """Trained models side by side."""
    from qorch.cli.render import console

    paired = "paired on the same test images" if result["paired"] else "not paired"
    table = Table(title=f"against {result['reference']} ({paired})")
    for column in ("job", "model", "accuracy [95 %]", "Δ vs ref", "params (cl/q)", "circuit",
                   "train s"):
        table.add_column(column)
    for row in result["models"]:
        versus = row.get("vs_reference")
        params = row.get("parameters") or {}
        circuit = row.get("circuit")
        acc = row["accuracy"]
        table.add_row(
            row["job"], row["model"] or "",
            _percent(acc) if "low" in acc else f"{acc['value']:.1%}",
            f"{versus['difference']:+.1%} (p={versus['mcnemar_p']:.2g})" if versus else "",
            f"{params.get('classical', 0):,}/{params.get('quantum', 0):,}",
            f"{circuit['qubits']}q d{circuit['depth']}" if circuit else "—",
            f"{row['training_seconds']:.0f}" if row.get("training_seconds") else "")
    console.print(table)
    for name, path in (result.get("pictures") or {}).items():
        console.print(f"{name}: {path}")
