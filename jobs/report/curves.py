"""Training curves: loss per step, accuracy per epoch, and several jobs overlaid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator, PercentFormatter

from qorch.jobs.report.canvas import PALETTE, ReportError, new_figure, paired, save


@dataclass(frozen=True)
class Series:
    """One labelled line: x (steps or epochs) against y (loss, accuracy, ...)."""

    label: str
    x: Sequence[float]
    y: Sequence[float]


def smoothing_window(points: int) -> int:
    """Steps per moving-average window: about 1/40 of the run, odd, 1 for short runs."""
    window = max(1, points // 40)
    return window if window % 2 else window + 1


def moving_average(y: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average; the ends average over the part of the window that exists."""
    if window <= 1:
        return y
    kernel = np.ones(window)
    sums = np.convolve(y, kernel, mode="same")
    counts = np.convolve(np.ones_like(y), kernel, mode="same")
    return np.asarray(sums / counts)


def _finish(ax: Axes, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    ax.set_title(title, fontsize=12, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if legend:
        ax.legend(frameon=False)


def plot_loss(steps: Sequence[float], losses: Sequence[float], path: str | Path, *,
              title: str = "Training loss per step", ylabel: str = "cross-entropy loss") -> Path:
    """Loss at every step (faint) with its moving average (bold)."""
    x, y = paired(steps, losses, "loss curve")
    figure = new_figure(7.5, 4.5)
    ax = figure.add_subplot()
    window = smoothing_window(len(y))
    ax.plot(x, y, color=PALETTE[0], alpha=0.3 if window > 1 else 1.0, linewidth=1,
            label="per step")
    if window > 1:
        ax.plot(x, moving_average(y, window), color=PALETTE[0], linewidth=2.2,
                label=f"moving average ({window} steps)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _finish(ax, title, "step", ylabel)
    return save(figure, path)


def plot_accuracy(epochs: Sequence[float], test: Sequence[float], path: str | Path, *,
                  train: Sequence[float] | None = None,
                  title: str = "Accuracy per epoch") -> Path:
    """Test (and train) accuracy per epoch, as percentages."""
    x, y_test = paired(epochs, test, "test accuracy")
    figure = new_figure(7.5, 4.5)
    ax = figure.add_subplot()
    shown = [y_test]
    if train is not None:
        _, y_train = paired(epochs, train, "train accuracy")
        ax.plot(x, y_train, marker="o", color=PALETTE[1], linewidth=2, label="train")
        shown.append(y_train)
    ax.plot(x, y_test, marker="s", color=PALETTE[0], linewidth=2, label="test")
    for xi, yi in zip(x, y_test, strict=True):
        ax.annotate(f"{yi:.1%}", (xi, yi), textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=8, color=PALETTE[0])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    values = np.concatenate(shown)
    # Zoom on the data, with room above the highest point for its label.
    ax.set_ylim(max(0.0, float(values.min()) - 0.05), min(1.05, float(values.max()) + 0.05))
    _finish(ax, title, "epoch", "accuracy")
    return save(figure, path)


def plot_runs(runs: Sequence[Series], path: str | Path, *, title: str = "Training curves",
              xlabel: str = "step", ylabel: str = "loss", smooth: bool = True,
              percent: bool = False) -> Path:
    """Several jobs' curves on one axis (model or backend comparison), smoothed when long."""
    if not runs:
        raise ReportError("plot_runs needs at least one series")
    figure = new_figure(8, 4.8)
    ax = figure.add_subplot()
    for index, run in enumerate(runs):
        x, y = paired(run.x, run.y, f"series {run.label!r}")
        colour = PALETTE[index % len(PALETTE)]
        window = smoothing_window(len(y)) if smooth else 1
        if window > 1:
            ax.plot(x, y, color=colour, alpha=0.2, linewidth=0.8)
        ax.plot(x, moving_average(y, window), color=colour, linewidth=2, label=run.label,
                marker="o" if len(y) <= 30 else None, markersize=4)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _finish(ax, title, xlabel, ylabel)
    return save(figure, path)
