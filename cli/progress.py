"""Following an attached run: a progress bar on a terminal, plain lines when piped."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from qorch.cli.render import console, total_steps

PLAIN_EVERY_S = 10.0  # a piped run prints at least this often while steps advance


@dataclass
class Tracker:
    """What the records of a job say about its progress so far."""

    kind: str
    total: int
    epochs: int | None
    test_images: int | None
    state: str = "QUEUED"
    step: int = 0
    epoch: int = 1
    loss: float | None = None
    acc: float | None = None
    images: int = 0

    @classmethod
    def of(cls, job: Any) -> Tracker:
        epochs = job.spec.get("epochs") if job.kind == "train" else None
        return cls(job.kind, total_steps(job), int(epochs) if epochs else None,
                   (job.summary or {}).get("test_examples"))

    def feed(self, job: Any, metrics: list[Any]) -> bool:
        """Take new records; True when an epoch (or the evaluation) has just ended."""
        self.state = job.state.value
        ended = False
        for m in metrics:
            if m.name == "loss":
                self.step, self.epoch, self.loss = m.step, m.epoch, m.value
            elif m.name == "evaluated":
                self.step, self.images = m.step, int(m.value)
            elif m.name == "test_accuracy":
                self.acc, self.epoch, ended = m.value, m.epoch, True
        return ended

    def count(self) -> str:
        if self.kind == "infer":
            of = f"{self.test_images:,}" if self.test_images else "?"
            return f"{self.images:,}/{of} images"
        if self.kind == "compare":
            return f"backend {self.step}/{self.total}"
        return f"step {self.step:,}/{self.total:,}"

    def detail(self) -> str:
        parts = [f"epoch {self.epoch}/{self.epochs}"] if self.epochs else []
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4f}")
        if self.acc is not None:
            parts.append(f"test acc {self.acc:.2%}")
        return "  ".join(parts)


def follow(service: Any, job_id: str) -> Any:
    """Follow a job from the store until it ends; returns its final row."""
    if console.is_terminal:
        return _with_bar(service, job_id)
    return _with_lines(service, job_id)


def _with_bar(service: Any, job_id: str) -> Any:
    columns = (TextColumn("[bold]{task.description}"), BarColumn(),
               TextColumn("{task.fields[count]}"), TextColumn("{task.fields[info]}"),
               TimeElapsedColumn())
    tracker: list[Tracker] = []
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"job {job_id}", total=None, count="", info="starting")

        def update(job: Any, events: list[Any], metrics: list[Any]) -> None:
            if not tracker:
                tracker.append(Tracker.of(job))
                bar.update(task, total=tracker[0].total)
            t = tracker[0]
            t.feed(job, metrics)
            bar.update(task, completed=t.step, count=t.count(),
                       info=f"{t.state.lower()}  {t.detail()}".rstrip())

        return service.follow(job_id, update)


def _with_lines(service: Any, job_id: str) -> Any:
    """One plain line per state change and per epoch, and every few seconds in between."""
    tracker: list[Tracker] = []
    last: dict[str, Any] = {"at": time.monotonic(), "step": 0, "state": ""}

    def emit(t: Tracker) -> None:
        print(f"job {job_id} {t.state} {t.count()}  {t.detail()}".rstrip(), flush=True)
        last.update(at=time.monotonic(), step=t.step, state=t.state)

    def update(job: Any, events: list[Any], metrics: list[Any]) -> None:
        if not tracker:
            tracker.append(Tracker.of(job))
        t = tracker[0]
        for m in metrics:  # one by one: records that arrive together still give each epoch
            if t.feed(job, [m]):
                emit(t)
        t.feed(job, [])
        if job.state.terminal:  # the final line says how it ended
            return
        due = time.monotonic() - last["at"] >= PLAIN_EVERY_S and t.step != last["step"]
        if due or t.state != last["state"]:
            emit(t)

    return service.follow(job_id, update)


def final_line(job: Any) -> None:
    """The outcome, as one plain line (never cut to the terminal's width)."""
    result = job.result or {}
    acc = result.get("test_accuracy")
    tail = f", test accuracy {acc:.2%}" if acc is not None else ""
    error = f": {job.error}" if job.error else ""
    print(f"job {job.id} {job.state.value}{tail}{error}", flush=True)
