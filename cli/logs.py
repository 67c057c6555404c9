"""`qorch logs`: events and one line per epoch (or per step), plain or one JSON record a line."""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qorch.cli.render import console

EPOCH_END = ("test_accuracy",)  # a step carrying these closes an epoch (or an evaluation)
SHORT = {"train_accuracy": "train_acc", "test_accuracy": "test_acc"}
PERCENT = ("train_accuracy", "test_accuracy")
# The per-epoch line keeps to 80 columns; --steps and --json give every value.
BRIEF = ("loss", "evaluated", "train_accuracy", "test_accuracy")
POLL_S = 0.5


@dataclass
class View:
    """Turns records into lines; metric values of a step are held until the step is shown."""

    steps: bool
    as_json: bool
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    day: str = ""

    def lines(self, events: list[Any], metrics: list[Any]) -> list[str]:
        for m in metrics:
            slot = self.pending.setdefault(m.step, {"epoch": m.epoch, "at": m.at, "values": {}})
            slot["values"][m.name] = m.value
            slot["at"] = max(slot["at"], m.at)
        ready = [(step, slot) for step, slot in sorted(self.pending.items())
                 if self.steps or any(_closes(name) for name in slot["values"])]
        for step, _ in ready:
            del self.pending[step]
        if not self.steps:  # values of steps inside an epoch are not shown: let them go
            self.pending = {s: v for s, v in self.pending.items() if s > max(
                (s for s, _ in ready), default=-1)}
        records = [(e.at, 0, self._event(e)) for e in events]
        records += [(slot["at"], 1, self._metric(step, slot)) for step, slot in ready]
        out = []
        for at, _, text in sorted(records, key=lambda r: (r[0], r[1])):
            if not self.as_json and f"{at:%Y-%m-%d}" != self.day:
                self.day = f"{at:%Y-%m-%d}"
                out.append(f"— {self.day} (UTC) —")
            out.append(text)
        return out

    def _event(self, e: Any) -> str:
        reason = (e.reason or "").strip().splitlines()
        last = reason[-1] if reason else ""
        if self.as_json:
            return json.dumps({"type": "event", "at": e.at.isoformat(), "from": e.from_state,
                               "to": e.to_state, "origin": e.origin, "reason": last or None})
        return (f"{e.at:%H:%M:%S} event  {e.from_state or '-'} -> {e.to_state} [{e.origin}] "
                f"{last}").rstrip()

    def _metric(self, step: int, slot: dict[str, Any]) -> str:
        values: dict[str, float] = slot["values"]
        if self.as_json:
            return json.dumps({"type": "metric", "at": slot["at"].isoformat(), "step": step,
                               "epoch": slot["epoch"], "values": values})
        if self.steps:
            shown = " ".join(f"{k}={v:.6g}" for k, v in values.items())
        else:
            shown = " ".join(_brief(k, v) for k, v in values.items()
                             if k in BRIEF or _closes(k))
        at: datetime = slot["at"]
        return f"{at:%H:%M:%S} metric epoch={slot['epoch']} step={step} {shown}"


def _closes(name: str) -> bool:
    """An epoch's, an evaluation's or (comparisons) a backend's final value."""
    return name in EPOCH_END or name.startswith("accuracy/")


def _brief(name: str, value: float) -> str:
    if name in PERCENT:
        return f"{SHORT[name]}={value:.1%}"
    return f"{SHORT.get(name, name)}={value:.4g}"


def matrix_lines(result: dict[str, Any]) -> list[str]:
    """A confusion matrix as a matrix: true classes down, predicted across."""
    names = [str(n) for n in result["class_names"]]
    rows = result["confusion_matrix"]
    width = max(len(str(v)) for row in rows for v in row) + 1
    width = max(width, *(len(n) + 1 for n in names))
    label = max(len(n) for n in names) + 1
    out = ["confusion matrix (rows: true class, columns: predicted)",
           " " * label + "".join(n.rjust(width) for n in names)]
    out += [name.rjust(label - 1) + " " + "".join(str(v).rjust(width) for v in row)
            for name, row in zip(names, rows, strict=True)]
    return out


def stream(service: Any, job_id: str, *, follow: bool, steps: bool, tail: int | None,
           as_json: bool) -> None:
    """Print a job's records (the last `tail` lines first), following it if asked."""
    view = View(steps=steps, as_json=as_json)
    last_event = last_metric = 0
    first = True
    while True:
        job, events, metrics = service.records(job_id, last_event, last_metric)
        lines = view.lines(events, metrics)
        if first and tail is not None:
            lines = list(deque(lines, maxlen=tail))
        first = False
        for line in lines:
            print(line, flush=True)
        last_event = events[-1].id if events else last_event
        last_metric = metrics[-1].id if metrics else last_metric
        done = job.state.terminal and not events and not metrics
        if not follow or done:
            _outcome(job, as_json)
            return
        time.sleep(POLL_S)


def _outcome(job: Any, as_json: bool) -> None:
    result = job.result or {}
    if not job.state.terminal or "confusion_matrix" not in result:
        return
    if as_json:
        print(json.dumps({"type": "confusion", "classes": result["class_names"],
                          "matrix": result["confusion_matrix"]}))
    else:
        console.print("\n".join(matrix_lines(result)), highlight=False, soft_wrap=True)
