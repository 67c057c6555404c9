"""Reports and model comparisons from the store: pictures and an index page per job."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qorch.jobs.compare.models import TrainedModel, compare_models
from qorch.jobs.compare.stats import Accuracy
from qorch.jobs.data.datasets import DataSource
from qorch.orchestrator.errors import JobNotUsableError
from qorch.orchestrator.store import repository as repo
from qorch.orchestrator.store.db import session_scope
from qorch.orchestrator.store.models import Job
from qorch.orchestrator.store.states import JobState

GRID = 32  # test images shown with their predictions


def curves(url: str, job_id: str) -> dict[str, list[tuple[int, float]]]:
    """Every metric of a job as (step or epoch, value) series."""
    with session_scope(url) as session:
        rows = repo.metrics(session, job_id)
    series: dict[str, list[tuple[int, float]]] = {}
    for m in rows:
        series.setdefault(m.name, []).append((m.epoch if m.name != "loss" else m.step, m.value))
    return series


def test_images(job: Job, source: DataSource) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The job's test split (images 0-1 scaled for pictures, labels) as it was evaluated."""
    from qorch.jobs.data.tensors import load_tensors
    from qorch.jobs.kinds import parse_spec
    from qorch.jobs.runner import data_source
    from qorch.jobs.spec import TrainSpec

    spec = parse_spec(job.kind, dict(job.spec))
    model = spec if isinstance(spec, TrainSpec) else spec.model
    data = load_tensors(model.dataset, train_size=1, test_size=model.test_size,
                        source=data_source(model, source), classes=model.classes)
    images = data.test_x.numpy()
    span = images.max() - images.min()
    return (images - images.min()) / (span or 1.0), data.test_y.numpy(), data.class_names


def finished(url: str, job_id: str) -> Job:
    with session_scope(url) as session:
        job = repo.get_job(session, job_id)
    if job.state is not JobState.SUCCEEDED or not job.result:
        raise JobNotUsableError(f"job {job.id} is {job.state.value}; reports and comparisons "
                                "need a SUCCEEDED job")
    return job


def report(url: str, job_id: str, out: Path, source: DataSource) -> Path:
    """PNGs of a job and an index.md tying them to its spec and numbers; the index's path."""
    from qorch.backends.circuits.template import CircuitTemplate
    from qorch.jobs.report import curves as curve_plots
    from qorch.jobs.report import figures
    from qorch.jobs.report.circuit import plot_circuit
    from qorch.jobs.report.index import IndexPage, write_index

    job = finished(url, job_id)
    out.mkdir(parents=True, exist_ok=True)
    result, pictures = dict(job.result or {}), {}
    if job.kind == "compare":
        accuracies = {row["backend"]: Accuracy(**row["accuracy"]) for row in result["backends"]}
        pictures["Test accuracy by backend (95 % Wilson intervals)"] = figures.plot_accuracy_bars(
            accuracies, out / "backends.png")
        tables = {"backends": [{"backend": r["backend"], "accuracy": r["accuracy"]["value"],
                                "low": r["accuracy"]["low"], "high": r["accuracy"]["high"],
                                **_versus(r)} for r in result["backends"]]}
    else:
        series = curves(url, job.id)
        if "loss" in series:
            steps, losses = zip(*series["loss"], strict=True)
            pictures["Loss per step"] = curve_plots.plot_loss(steps, losses, out / "loss.png")
        if "test_accuracy" in series and job.kind == "train":
            epochs, test = zip(*series["test_accuracy"], strict=True)
            train = [v for _, v in series.get("train_accuracy", [])] or None
            pictures["Accuracy per epoch"] = curve_plots.plot_accuracy(
                epochs, test, out / "accuracy.png", train=train)
        images, labels, names = test_images(job, source)
        predicted = np.asarray(result.get("predictions") or [])
        if len(predicted) == len(labels):
            matrix = np.zeros((len(names), len(names)), dtype=np.int64)
            np.add.at(matrix, (labels, predicted), 1)
            pictures["Confusion matrix"] = figures.plot_confusion(matrix, names,
                                                                  out / "confusion.png")
            pictures["Test images: predicted (true)"] = figures.plot_predictions(
                images[:GRID], predicted[:GRID], labels[:GRID], names, out / "predictions.png")
        tables = {}
    circuit = (job.summary or {}).get("circuit")
    if circuit:
        pictures["Quantum circuit"] = plot_circuit(
            CircuitTemplate.from_dict(circuit["template"]), out / "circuit.png")
    shown = {k: v for k, v in result.items() if k not in ("predictions", "backends")}
    page: IndexPage = {"title": f"qorch {job.kind} job {job.id}", "job_id": job.id,
                       "summary": f"{job.state.value} on {job.backend}", "spec": dict(job.spec),
                       "results": shown, "tables": tables,
                       "images": {k: Path(v).name for k, v in pictures.items()}}
    return write_index(page, out / "index.md")


def _versus(row: dict[str, Any]) -> dict[str, Any]:
    versus = row.get("vs_reference")
    if not versus:
        return {"vs reference": "reference"}
    return {"vs reference": versus["difference"], "McNemar p": versus["mcnemar_p"],
            "mean |Δ| outputs": (row.get("output_delta") or {}).get("mean_abs")}


def compare_trained(url: str, job_ids: Sequence[str], source: DataSource,
                    out: Path | None = None) -> dict[str, Any]:
    """Trained models side by side; with `out`, their overlaid curves as PNGs."""
    models = []
    for job_id in job_ids:
        job = finished(url, job_id)
        if job.kind != "train":
            raise JobNotUsableError(f"job {job.id} is a {job.kind} job; compare training jobs")
        seconds = ((job.ended_at - job.started_at).total_seconds()
                   if job.started_at and job.ended_at else None)
        models.append(TrainedModel(job.id, dict(job.spec), dict(job.result or {}),
                                   dict(job.summary or {}), seconds, curves(url, job.id)))
    first = finished(url, job_ids[0])
    _, labels, _ = test_images(first, source)
    comparison = compare_models(models, labels)
    if out is not None:
        comparison["pictures"] = overlaid_curves(models, out)
    return comparison


def overlaid_curves(models: Sequence[TrainedModel], out: Path) -> dict[str, str]:
    from qorch.jobs.report.curves import Series, plot_runs

    out.mkdir(parents=True, exist_ok=True)
    pictures = {}
    for metric, file, xlabel, percent in (("loss", "loss.png", "step", False),
                                          ("test_accuracy", "test_accuracy.png", "epoch", True)):
        runs = [Series(m.label, *map(list, zip(*m.curves[metric], strict=True)))
                for m in models if m.curves.get(metric)]
        if runs:
            pictures[metric] = str(plot_runs(runs, out / file, title=metric.replace("_", " "),
                                             xlabel=xlabel, ylabel=metric.replace("_", " "),
                                             percent=percent, smooth=metric == "loss"))
    return pictures
