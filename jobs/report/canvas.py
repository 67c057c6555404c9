"""Figures drawn without pyplot: no global state, no display, safe in worker threads."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from qorch.jobs.errors import JobError

DPI = 120
# Colour-blind-safe (Okabe-Ito) for lines and bars; RIGHT/WRONG mark predictions.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
RIGHT, WRONG = "#1a7f37", "#d00000"


class ReportError(JobError, ValueError):
    """Data handed to a picture does not fit it (lengths, shapes, nothing to draw)."""


def new_figure(width: float, height: float) -> Figure:
    """A white figure of width x height inches on its own Agg canvas."""
    figure = Figure(figsize=(width, height), dpi=DPI, facecolor="white", layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save(figure: Figure, path: str | Path) -> Path:
    """Write the figure as PNG (parent folders created) and return its path."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ReportError(f"pictures are written as PNG; got {target.name!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=DPI, facecolor="white")
    return target


def as_floats(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    """A non-empty 1-d float array, or a ReportError naming `what`."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ReportError(f"{what} must be a non-empty 1-d sequence, got shape {array.shape}")
    return array


def paired(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray,
           what: str) -> tuple[np.ndarray, np.ndarray]:
    """x and y of one line, as equal-length float arrays."""
    xs, ys = as_floats(x, f"{what} x"), as_floats(y, f"{what} y")
    if len(xs) != len(ys):
        raise ReportError(f"{what}: {len(xs)} x values but {len(ys)} y values")
    return xs, ys
