"""Text helpers and the job list: relative times, durations, plurals, a table fit to 80 columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from qorch.cli.render import console, job_dict

SHORT_ID = 8  # hex characters: a clash among a user's jobs is one in millions
WIDE_ENOUGH = 92  # columns that fit whole 12-character ids beside the rest


def plural(count: int, noun: str) -> str:
    """`1 qubit`, `2 qubits`, `12,000 shots`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def span(seconds: float | None) -> str:
    """A duration as people read it: `42s`, `3m 05s`, `2h 07m`, `3d 04h`."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """`just now`, `5m ago`, `3h ago`, `2d ago`; the date after a month."""
    if moment is None:
        return "—"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 10:
        return "just now"
    if seconds < 30 * 86400:
        return f"{span(seconds).split()[0]} ago"
    return f"{moment:%Y-%m-%d}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def age(moment: datetime | None, now: datetime) -> str:
    """`now`, `42s`, `5m`, `3h`, `12d` since a moment."""
    if moment is None:
        return "—"
    seconds = (now - moment).total_seconds()
    return "now" if seconds < 10 else span(seconds).split()[0]


def short_ids(ids: list[str], width: int) -> dict[str, str]:
    """Whole ids where the terminal is wide; else the shortest prefixes, 8 characters or more,
    that tell the listed jobs apart (every command takes a unique prefix)."""
    if width >= WIDE_ENOUGH:
        return {i: i for i in ids}
    n = SHORT_ID
    while len({i[:n] for i in ids}) < len(set(ids)):
        n += 1
    return {i: i[:n] for i in ids}


def jobs_table(jobs: list[Any]) -> None:
    """Copyable ids, the model and data (an inference's: its source's), ages: 80 columns."""
    if not jobs:
        console.print("no jobs (`qorch submit train` starts one)")
        return
    # One space between columns: the nine fit 80 columns for the common names.
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    fixed = ("id", "kind", "state", "age", "took", "acc")
    for name in ("id", "kind", "model", "data", "backend", "state", "age", "took", "acc"):
        table.add_column(name, no_wrap=name in fixed, overflow="fold",
                         justify="right" if name in ("age", "took", "acc") else "left")
    now = datetime.now(UTC)
    shown = short_ids([job.id for job in jobs], console.width)
    for job in jobs:
        row = job_dict(job)
        acc = row["test_accuracy"]
        table.add_row(shown[job.id], row["kind"], row["model"] or "—", _data(row["dataset"]),
                      row["backend"], row["state"], age(job.created_at, now),
                      span(row["duration_s"]).replace(" ", ""),
                      "100%" if acc is not None and acc >= 0.9995 else percent(acc))
    console.print(table)


def _data(dataset: str | None) -> str:
    # The column stays narrow: "fashion" names Fashion-MNIST unambiguously.
    return {"fashion-mnist": "fashion"}.get(dataset or "", dataset or "—")
