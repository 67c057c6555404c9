"""`qorch status` for people: the job, its progress, spec, model, device, results, metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.table import Table

from qorch.cli.render import console, status_dict
from qorch.cli.tables import ago, percent, plural, span

HIDDEN_SPEC = ("trained", "data_dir")  # the source spec is shown as its job; paths are long


def status_view(info: Any) -> None:
    data = status_dict(info)
    _overview(data)
    _spec(data)
    summary = data["summary"] or {}
    if summary:
        _model(data["id"], data["kind"], summary)
        if summary.get("device"):
            device_view(summary["device"])
    result = data["result"] or {}
    if "confusion_matrix" in result:
        confusion_view(result)
    if result.get("backends"):
        from qorch.cli.compare import comparison_view  # compare's module imports this one's

        comparison_view(result)
    if data["executions"]:
        _submissions(data["executions"])
    if data["metrics"]:
        metrics = Table(title="latest metrics", box=None, pad_edge=False, header_style="bold")
        for column in ("metric", "value", "epoch", "step"):
            metrics.add_column(column, justify="left" if column == "metric" else "right")
        for name, m in data["metrics"].items():
            metrics.add_row(name, f"{m['value']:.6g}", str(m["epoch"]), str(m["step"]))
        console.print(metrics)


def progress_text(kind: str, progress: dict[str, Any]) -> str:
    done, total = progress["step"], progress["total_steps"]
    if kind == "infer":
        of = progress["test_images"]
        return (f"{progress['images']:,} of {f'{of:,}' if of else '?'} test images "
                f"(batch {done} of {total})")
    if kind == "compare":
        return f"backend {done} of {total}"
    return f"step {done:,} of {total:,}"


def _overview(data: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    state = data["state"] + (f" — {data['phase']}" if data["phase"] else "")
    rows = [("job", f"{data['id']} ({data['kind']}, owner {data['owner']})"), ("state", state),
            ("progress", progress_text(data["kind"], data["progress"]))]
    if data["kind"] != "train":
        rows.append(("from", f"job {data['spec'].get('source_job')}"))
    rows += [("created", f"{data['created_at'][:19]} UTC ({ago(_when(data['created_at']))})"),
             ("ran", span(data["duration_s"]) if data["duration_s"] is not None else "not yet"),
             ("checkpoints", str(data["checkpoints"]))]
    acc = (data["result"] or {}).get("test_accuracy")
    if acc is not None:
        rows.append(("test accuracy", percent(acc)))
    usage = data["usage"]
    if usage["provider_jobs"]:
        rows.append(("provider use", f"{plural(usage['provider_jobs'], 'provider job')}, "
                                     f"{plural(usage['circuits'], 'circuit')}, "
                                     f"{plural(usage['shots'], 'shot')}"))
    if data["error"]:
        rows.append(("error", data["error"]))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _spec(data: dict[str, Any]) -> None:
    shown = {k: v for k, v in data["spec"].items() if v is not None and k not in HIDDEN_SPEC}
    line = ", ".join(f"{k}={_short(v)}" for k, v in shown.items())
    console.print(f"[bold]spec[/bold] {line}", highlight=False)


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _model(job_id: str, kind: str, summary: dict[str, Any]) -> None:
    params = summary.get("parameters", {})
    table = Table(title="model", show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("parameters", f"{params.get('classical', 0):,} classical, "
                                f"{params.get('quantum', 0):,} quantum")
    tested = plural(int(summary.get("test_examples") or 0), "test image")
    table.add_row("data", tested if kind != "train" else
                  f"{plural(int(summary.get('train_examples') or 0), 'training image')}, {tested}")
    circuit = summary.get("circuit")
    if circuit:
        template = circuit["template"]
        table.add_row("circuit", f"{plural(template['n_qubits'], 'qubit')}, "
                                 f"{plural(template['n_layers'], 'layer')}, "
                                 f"{template['encoding']}, {template['rotations']}, "
                                 f"{template['entangler']}, "
                                 f"observables {'+'.join(template['observables'])}")
        gates = ", ".join(f"{k} {v}" for k, v in sorted(circuit["gates"].items()))
        table.add_row("shape", f"depth {circuit['depth']}; gates {gates}; "
                               f"{plural(circuit['outputs'], 'output')}; hash {circuit['hash']}")
    console.print(table)
    if circuit:
        drawing = circuit["drawing"]
        if max(map(len, drawing.splitlines())) <= console.width:
            console.print(drawing, markup=False, highlight=False, soft_wrap=True)
        else:  # a wrapped drawing is unreadable
            console.print(f"(the circuit drawing is {max(map(len, drawing.splitlines()))} "
                          f"columns wide: widen the terminal, or `qorch report {job_id}` draws it)")


def _error(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _micro(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e6:,.0f}"


def device_view(device: dict[str, Any]) -> None:
    """A device's calibration as people read it: per-qubit times (µs) and error rates (%)."""
    when = device.get("calibration_date") or "unknown"
    console.print(f"[bold]device[/bold] {device.get('device')}: "
                  f"{plural(int(device.get('num_device_qubits') or 0), 'qubit')}, calibration "
                  f"{when[:10]}, layout {device.get('layout')}, transpiled depth "
                  f"{device.get('transpiled_depth')}", highlight=False)
    qubits = device.get("qubits") or []
    if qubits:
        gates = [k for k in qubits[0] if k.endswith("_error") and k != "readout_error"]
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("qubit", "T1 µs", "T2 µs", "readout err",
                       *(g.replace("_error", " err") for g in gates)):
            table.add_column(column, justify="right")
        for q in qubits:
            table.add_row(str(q["physical"]), _micro(q.get("t1_s")), _micro(q.get("t2_s")),
                          _error(q.get("readout_error")), *(_error(q.get(g)) for g in gates))
        console.print(table)
    pairs = device.get("two_qubit_gates") or []
    if pairs:
        shown = ", ".join(f"{p['gate']} {p['qubits'][0]}-{p['qubits'][1]} {_error(p['error'])}"
                          for p in pairs)
        console.print(f"[bold]two-qubit errors[/bold] {shown}", highlight=False)


def confusion_view(result: dict[str, Any]) -> None:
    names = result["class_names"]
    table = Table(title="confusion: true rows, predicted columns", box=None,
                  pad_edge=False, header_style="bold")
    table.add_column("true", justify="right")
    for name in names:
        table.add_column(str(name), justify="right")
    table.add_column("acc", justify="right")
    for name, row in zip(names, result["confusion_matrix"], strict=True):
        acc = result["class_accuracy"][name]
        table.add_row(str(name), *(str(v) for v in row), f"{acc:.0%}")
    console.print(table)


def _submissions(executions: list[dict[str, Any]]) -> None:
    table = Table(title="latest provider submissions", box=None, pad_edge=False,
                  header_style="bold")
    for column in ("step", "purpose", "batch", "provider job", "status", "circuits", "shots"):
        table.add_column(column, overflow="fold")
    for x in executions:
        table.add_row(str(x["step"]), x["purpose"], f"{x['batch']}.{x['chunk']}",
                      x["provider_job_id"] or "—", x["status"], f"{x['circuits']:,}",
                      f"{x['shots']:,}" if x["shots"] else "exact")
    console.print(table)
