"""Result pictures: confusion matrix, a grid of test images, accuracies with error bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import PercentFormatter

from qorch.jobs.compare.stats import Accuracy
from qorch.jobs.report.canvas import PALETTE, RIGHT, WRONG, ReportError, new_figure, save


def plot_confusion(matrix: Sequence[Sequence[int]] | np.ndarray, class_names: Sequence[str],
                   path: str | Path, *, title: str = "Confusion matrix") -> Path:
    """Counts per (true, predicted) class, shaded by the share of each true class's images."""
    counts = np.asarray(matrix, dtype=np.int64)
    k = len(class_names)
    if counts.shape != (k, k):
        raise ReportError(f"confusion matrix must be [{k}, {k}] for {k} classes, "
                          f"got {list(counts.shape)}")
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(5.0, 0.6 * k + 2.5)
    figure = new_figure(size + 1.2, size)
    ax = figure.add_subplot()
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    colorbar = figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("share of the true class")
    colorbar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    font = 9 if k <= 10 else 7
    for i in range(k):
        for j in range(k):
            # Dark text on light cells, white on dark ones, so every count stays legible.
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=font,
                    color="white" if shares[i, j] > 0.5 else "#222222")
    ax.set_xticks(range(k), [str(n) for n in class_names], rotation=45 if k > 6 else 0,
                  ha="right" if k > 6 else "center")
    ax.set_yticks(range(k), [str(n) for n in class_names])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = max(int(counts.sum()), 1)
    accuracy = np.trace(counts) / total
    ax.set_title(f"{title}\n{accuracy:.2%} of {total} images correct", fontsize=12,
                 fontweight="bold")
    return save(figure, path)


def plot_predictions(images: np.ndarray, predicted: Sequence[int] | np.ndarray,
                     labels: Sequence[int] | np.ndarray, class_names: Sequence[str],
                     path: str | Path, *, columns: int = 8,
                     title: str = "Test images: predicted (true)") -> Path:
    """A grid of images, each titled with its predicted and true class; wrong ones in red."""
    pictures = np.asarray(images, dtype=np.float64)
    if pictures.ndim == 4 and pictures.shape[1] == 1:
        pictures = pictures[:, 0]  # [N, 1, H, W] tensors as the models take them
    guess, truth = np.asarray(predicted), np.asarray(labels)
    n = len(pictures)
    if pictures.ndim != 3 or n == 0 or len(guess) != n or len(truth) != n:
        raise ReportError(
            f"need images [N, H, W] with N predictions and N labels; got images "
            f"{list(pictures.shape)}, {len(guess)} predictions, {len(truth)} labels")
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    figure = new_figure(1.35 * columns, 1.5 * rows + 0.6)
    grid = figure.subplots(rows, columns, squeeze=False)
    wrong = 0
    for index, ax in enumerate(grid.flat):
        ax.set_axis_off()
        if index >= n:
            continue
        ax.imshow(pictures[index], cmap="gray_r", interpolation="nearest")
        right = int(guess[index]) == int(truth[index])
        wrong += not right
        ax.set_title(f"{class_names[int(guess[index])]} ({class_names[int(truth[index])]})",
                     fontsize=8, color=RIGHT if right else WRONG,
                     fontweight="normal" if right else "bold")
    figure.suptitle(f"{title} — {wrong} of {n} wrong (red)", fontsize=11, fontweight="bold")
    return save(figure, path)


def plot_accuracy_bars(accuracies: Mapping[str, Accuracy], path: str | Path, *,
                       title: str = "Test accuracy by backend",
                       reference: float | None = None) -> Path:
    """One bar per entry (backend, model, ...) with its confidence interval as error bar."""
    if not accuracies:
        raise ReportError("plot_accuracy_bars needs at least one accuracy")
    names = list(accuracies)
    values = np.array([accuracies[n].value for n in names])
    below = values - np.array([accuracies[n].low for n in names])
    above = np.array([accuracies[n].high for n in names]) - values
    figure = new_figure(max(5.5, 1.1 * len(names) + 2), 4.8)
    ax = figure.add_subplot()
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(names))]
    ax.bar(range(len(names)), values, color=colours, alpha=0.85,
           yerr=np.vstack([below, above]), capsize=6, ecolor="#333333")
    for i in range(len(names)):
        ax.annotate(f"{values[i]:.1%}", (i, values[i] + above[i]), textcoords="offset points",
                    xytext=(0, 4), ha="center", fontsize=9,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    if reference is not None:
        ax.axhline(reference, color="#555555", linestyle="--", linewidth=1, zorder=0,
                   label=f"reference {reference:.1%}")
        ax.legend(frameon=False, loc="upper right")
    long = len(names) > 4 or max(len(n) for n in names) > 14
    ax.set_xticks(range(len(names)), [f"{n}\nn={accuracies[n].total}" for n in names],
                  rotation=25 if long else 0, ha="right" if long else "center",
                  fontsize=9)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    # Headroom above 100 % for the value labels and the legend; ticks stop at 100 %.
    ax.set_ylim(0, 1.2)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("accuracy")
    confidence = accuracies[names[0]].confidence
    ax.set_title(f"{title}\nerror bars: {confidence:.0%} Wilson intervals", fontsize=12,
                 fontweight="bold")
    ax.grid(True, axis="y", alpha=0.3)
    return save(figure, path)
