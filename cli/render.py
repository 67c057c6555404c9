"""Rendering of jobs for people (rich tables, progress bar) and for programs (JSON)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
FULL_SPLIT = {"train": 60_000}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _duration(job: Any) -> float | None:
    if job.started_at is None:
        return None
    end = job.ended_at or datetime.now(job.started_at.tzinfo)
    return round((end - job.started_at).total_seconds(), 1)


def total_steps(job: Any) -> int:
    if job.summary and "total_steps" in job.summary:
        return int(job.summary["total_steps"])
    spec = job.spec
    n = spec.get("train_size") or FULL_SPLIT["train"]
    return int(spec.get("epochs", 1)) * -(-int(n) // int(spec.get("batch_size", 1)))


def job_dict(job: Any) -> dict[str, Any]:
    result = job.result or {}
    return {
        "id": job.id, "kind": job.kind, "owner": job.owner, "state": job.state.value,
        "phase": job.phase, "backend": job.backend, "model": job.spec.get("model"),
        "dataset": job.spec.get("dataset"), "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at), "ended_at": _iso(job.ended_at),
        "heartbeat_at": _iso(job.heartbeat_at), "duration_s": _duration(job),
        "test_accuracy": result.get("test_accuracy"), "error": job.error,
    }


def status_dict(info: Any) -> dict[str, Any]:
    job = info.job
    latest = {name: {"value": m.value, "step": m.step, "epoch": m.epoch}
              for name, m in sorted(info.latest.items())}
    step = info.latest["loss"].step if "loss" in info.latest else 0
    return {
        **job_dict(job),
        "spec": job.spec,
        "result": job.result,
        "progress": {"step": step, "total_steps": total_steps(job)},
        "summary": job.summary,
        "metrics": latest,
        "checkpoints": info.checkpoints,
        "usage": info.usage,
        "executions": [
            {"step": x.step, "purpose": x.purpose, "batch": x.batch_index, "chunk": x.chunk,
             "provider_job_id": x.provider_job_id, "status": x.status,
             "circuits": x.n_circuits, "shots": x.shots, "submitted_at": _iso(x.submitted_at),
             "finished_at": _iso(x.finished_at), "error": x.error}
            for x in info.executions
        ],
        "events": [
            {"from": e.from_state, "to": e.to_state, "origin": e.origin,
             "reason": (e.reason or "").splitlines()[-1] if e.reason else None, "at": _iso(e.at)}
            for e in info.events
        ],
    }


def jobs_table(jobs: list[Any]) -> None:
    table = Table(title=None if jobs else "no jobs")
    for column in ("id", "kind", "model", "dataset", "backend", "state", "created", "duration",
                   "test acc"):
        table.add_column(column)
    for job in jobs:
        row = job_dict(job)
        acc = row["test_accuracy"]
        table.add_row(
            row["id"], row["kind"], row["model"] or "", row["dataset"] or "", row["backend"],
            row["state"], f"{job.created_at:%Y-%m-%d %H:%M}",
            f"{row['duration_s']}s" if row["duration_s"] is not None else "",
            f"{acc:.2%}" if acc is not None else "",
        )
    console.print(table)


def status_view(info: Any) -> None:
    data = status_dict(info)
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    progress = data["progress"]
    rows = [
        ("job", f"{data['id']} ({data['kind']}, owner {data['owner']})"),
        ("state", data["state"] + (f" — {data['phase']}" if data["phase"] else "")),
        ("progress", f"step {progress['step']} / {progress['total_steps']}"),
        ("created", data["created_at"]), ("started", data["started_at"] or "—"),
        ("ended", data["ended_at"] or "—"), ("heartbeat", data["heartbeat_at"] or "—"),
        ("duration", f"{data['duration_s']}s" if data["duration_s"] is not None else "—"),
        ("checkpoints", str(data["checkpoints"])),
    ]
    usage = data["usage"]
    if usage["provider_jobs"]:
        rows.append(("provider use", f"{usage['provider_jobs']} provider jobs, "
                                     f"{usage['circuits']:,} circuits, {usage['shots']:,} shots"))
    if data["error"]:
        rows.append(("error", data["error"]))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    spec = Table(title="spec", show_header=False)
    for key, value in data["spec"].items():
        spec.add_row(key, str(value))
    console.print(spec)
    summary = data["summary"] or {}
    if summary:
        _summary_view(summary)
    if data["result"] and "confusion_matrix" in data["result"]:
        confusion_view(data["result"])
    if data["executions"]:
        recent = Table(title="latest provider submissions")
        for column in ("step", "purpose", "batch", "chunk", "provider job", "status", "circuits",
                       "shots"):
            recent.add_column(column)
        for x in data["executions"]:
            recent.add_row(str(x["step"]), x["purpose"], str(x["batch"]), str(x["chunk"]),
                           x["provider_job_id"] or "—", x["status"], str(x["circuits"]),
                           str(x["shots"] or "exact"))
        console.print(recent)
    if data["metrics"]:
        metrics = Table(title="latest metrics")
        for column in ("metric", "value", "epoch", "step"):
            metrics.add_column(column)
        for name, m in data["metrics"].items():
            metrics.add_row(name, f"{m['value']:.6g}", str(m["epoch"]), str(m["step"]))
        console.print(metrics)


def follow(service: Any, job_id: str) -> Any:
    """Drive an attached run's progress bar from the store's records."""
    state: dict[str, Any] = {"total": None, "epoch": 1, "loss": None, "acc": None}
    columns = (
        TextColumn("[bold]{task.description}"), BarColumn(),
        TextColumn("step {task.completed}/{task.total}"),
        TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"job {job_id}", total=None, info="starting")

        def update(job: Any, events: list[Any], metrics: list[Any]) -> None:
            if state["total"] is None:
                state["total"] = total_steps(job)
                bar.update(task, total=state["total"])
            for m in metrics:
                state["epoch"] = m.epoch
                if m.name == "loss":
                    state["loss"] = m.value
                    bar.update(task, completed=m.step)
                elif m.name == "test_accuracy":
                    state["acc"] = m.value
            info = f"epoch {state['epoch']}/{job.spec.get('epochs')}"
            if state["loss"] is not None:
                info += f"  loss {state['loss']:.4f}"
            if state["acc"] is not None:
                info += f"  test acc {state['acc']:.2%}"
            bar.update(task, info=f"{job.state.value.lower()}  {info}")

        return service.follow(job_id, update)


def final_line(job: Any) -> None:
    result = job.result or {}
    acc = result.get("test_accuracy")
    tail = f", test accuracy {acc:.2%}" if acc is not None else ""
    error = f": {job.error}" if job.error else ""
    console.print(f"job {job.id} {job.state.value}{tail}{error}")


def stream_logs(service: Any, job_id: str, follow: bool) -> None:
    last_event = last_metric = 0
    while True:
        job, events, metrics = service.records(job_id, last_event, last_metric)
        records = sorted([(e.at, "event", e) for e in events] + [(m.at, "metric", m)
                                                                 for m in metrics],
                         key=lambda r: (r[0], r[1]))
        for at, kind, rec in records:
            stamp = f"{at:%Y-%m-%d %H:%M:%S}"
            if kind == "event":
                reason = (rec.reason or "").strip().splitlines()
                print(f"{stamp} event  {rec.from_state or '-'} -> {rec.to_state} "
                      f"[{rec.origin}] {reason[-1] if reason else ''}".rstrip())
            else:
                print(f"{stamp} metric epoch={rec.epoch} step={rec.step} "
                      f"{rec.name}={rec.value:.6g}")
        last_event = events[-1].id if events else last_event
        last_metric = metrics[-1].id if metrics else last_metric
        if not follow or (job.state.terminal and not events and not metrics):
            return
        time.sleep(0.5)


def _summary_view(summary: dict[str, Any]) -> None:
    params = summary.get("parameters", {})
    table = Table(title="model", show_header=False)
    table.add_row("parameters", f"{params.get('classical', 0):,} classical, "
                                f"{params.get('quantum', 0):,} quantum")
    table.add_row("data", f"{summary.get('train_examples')} train / "
                          f"{summary.get('test_examples')} test images")
    circuit = summary.get("circuit")
    if circuit:
        gates = ", ".join(f"{k} {v}" for k, v in sorted(circuit["gates"].items()))
        template = circuit["template"]
        table.add_row("circuit", f"{template['n_qubits']} qubits, {template['n_layers']} layers, "
                                 f"{template['encoding']}, {template['rotations']}, "
                                 f"{template['entangler']}, "
                                 f"observables {'+'.join(template['observables'])}")
        table.add_row("shape", f"depth {circuit['depth']}; gates {gates}; "
                               f"{circuit['outputs']} outputs; hash {circuit['hash']}")
    device = summary.get("device")
    if device:
        for key, value in device.items():
            table.add_row(f"device {key}", json_text(value))
    console.print(table)
    if circuit:
        console.print(circuit["drawing"], markup=False, highlight=False, soft_wrap=True)


def json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def confusion_view(result: dict[str, Any]) -> None:
    names = result["class_names"]
    table = Table(title="confusion matrix (rows: true class, columns: predicted)")
    table.add_column("true \\ pred")
    for name in names:
        table.add_column(str(name))
    table.add_column("accuracy")
    for name, row in zip(names, result["confusion_matrix"], strict=True):
        acc = result["class_accuracy"][name]
        table.add_row(str(name), *(str(v) for v in row), f"{acc:.1%}")
    console.print(table)


def print_plan(plan: dict[str, Any], as_json: bool) -> None:
    """A dry-run plan: JSON, or one `key: value` line each."""
    if as_json:
        print(json.dumps(plan, indent=2))
        return
    for key, value in plan.items():
        print(f"{key.replace('_', ' ')}: {json_text(value)}")


def backends_table(rows: list[dict[str, Any]]) -> None:
    table = Table(title="backends (--backend NAME)")
    columns = list(rows[0]) if rows else ["name"]
    for column in columns:
        table.add_column(column, no_wrap=column == "name", overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)


def cluster_view(info: dict[str, Any]) -> None:
    if info["address"] is None:
        console.print("no cluster running for this QORCH_HOME (a job starts one; or `qorch "
                      "cluster up`)")
    else:
        console.print(f"cluster at {info['address']}: {info['cpus']:g} CPUs, "
                      f"{info['cpus_free']:g} free")
        table = Table(title="nodes")
        for column in ("node", "address", "CPUs", "memory GiB", "custom resources"):
            table.add_column(column)
        for node in info["nodes"]:
            custom = ", ".join(f"{k}={v:g}" for k, v in node["custom"].items()) or "—"
            table.add_row(node["node_id"], str(node["address"]), f"{node['cpus']:g}",
                          f"{node['memory_gib']:g}", custom)
        console.print(table)
        if info.get("gateways"):
            gateways = Table(title="circuit gateways")
            for column in ("backend/shots/noise", "provider jobs", "batches/job", "rows/job",
                           "median wait", "busy", "queued"):
                gateways.add_column(column)
            for g in info["gateways"]:
                if "error" in g:
                    gateways.add_row(g["key"], g["error"], "", "", "", "", "")
                    continue
                gateways.add_row(
                    g["key"].removeprefix("qorch-gateway-"), str(g["provider_jobs"]),
                    f"{g['batches_per_job']:.1f}", f"{g['rows_per_job']:.0f}",
                    f"{g['wait_ms_median']:.0f} ms", f"{g['utilisation']:.0%}", str(g["queued"]))
            console.print(gateways)
    console.print(f"running jobs: {', '.join(info['running']) or 'none'}")
    console.print(f"waiting jobs: {', '.join(info['waiting']) or 'none'}")
