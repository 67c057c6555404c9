"""A job's report page: Markdown tying its pictures to its spec and numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict

from qorch.jobs.report.canvas import ReportError

LONG_LIST = 12  # longer lists (e.g. 10 000 predictions) are summarised, not printed


class IndexPage(TypedDict, total=False):
    """What write_index() reads; only `title` is required.

    `images` maps a caption to a PNG path (relative paths are kept as given, so the page and
    its pictures can move together); `tables` maps a heading to rows of {column: value}.
    """

    title: str
    job_id: str
    summary: str
    spec: Mapping[str, object]
    results: Mapping[str, object]
    tables: Mapping[str, Sequence[Mapping[str, object]]]
    images: Mapping[str, str | Path]


def format_value(value: object) -> str:
    """A cell: floats to 4 significant digits, long lists summarised, pipes escaped."""
    if isinstance(value, bool) or value is None:
        text = str(value)
    elif isinstance(value, float):
        text = f"{value:.4g}" if math.isfinite(value) else str(value)
    elif isinstance(value, Mapping):
        text = ", ".join(f"{k}={format_value(v)}" for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        text = (f"[{len(value)} values]" if len(value) > LONG_LIST
                else "[" + ", ".join(format_value(v) for v in value) + "]")
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def flatten(values: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Nested mappings as dotted keys: {"model": {"lr": 0.01}} -> {"model.lr": 0.01}."""
    flat: dict[str, object] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def key_value_table(values: Mapping[str, object]) -> list[str]:
    lines = ["| field | value |", "|---|---|"]
    lines += [f"| `{key}` | {format_value(value)} |" for key, value in flatten(values).items()]
    return lines


def rows_table(rows: Sequence[Mapping[str, object]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(format_value(row.get(c, "")) for c in columns) + " |"
              for row in rows]
    return lines


def render_index(page: IndexPage) -> str:
    """The Markdown text of a report page."""
    if not page.get("title"):
        raise ReportError("a report page needs a title")
    lines = [f"# {page['title']}", ""]
    if page.get("job_id"):
        lines += [f"Job `{page['job_id']}`", ""]
    if page.get("summary"):
        lines += [str(page["summary"]), ""]
    if page.get("results"):
        lines += ["## Results", "", *key_value_table(page["results"]), ""]
    for heading, rows in (page.get("tables") or {}).items():
        if rows:
            lines += [f"## {heading}", "", *rows_table(rows), ""]
    for caption, image in (page.get("images") or {}).items():
        lines += [f"## {caption}", "", f"![{caption}]({Path(image).as_posix()})", ""]
    if page.get("spec"):
        lines += ["## Specification", "", *key_value_table(page["spec"]), ""]
    return "\n".join(lines)


def write_index(page: IndexPage, path: str | Path) -> Path:
    """Write the page (e.g. <report folder>/index.md); every picture it names must exist."""
    target = Path(path)
    missing = [str(image) for image in (page.get("images") or {}).values()
               if not (target.parent / image).is_file()]
    if missing:
        raise ReportError(f"report pictures not found next to {target.name}: {missing}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_index(page) + "\n", encoding="utf-8")
    return target
