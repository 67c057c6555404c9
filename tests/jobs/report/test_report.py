"""Every picture is a readable PNG of the expected size that shows what it claims to show."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qorch.backends.circuits.template import CircuitTemplate
from qorch.jobs.compare.stats import wilson
from qorch.jobs.data.datasets import DATASETS, DataSource, load_split
from qorch.jobs.report.canvas import DPI, PALETTE, RIGHT, WRONG, ReportError
from qorch.jobs.report.circuit import MAX_COLUMNS, STYLE, layout, plot_circuit
from qorch.jobs.report.curves import (
    Series,
    moving_average,
    plot_accuracy,
    plot_loss,
    plot_runs,
    smoothing_window,
)
from qorch.jobs.report.figures import plot_accuracy_bars, plot_confusion, plot_predictions
from tests.jobs.report.pictures import assert_readable, decode, pixels_of


def noisy_loss(steps: int, seed: int = 0, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.arange(1, steps + 1)
    return x, scale * (2.3 * np.exp(-x / 150) + 0.3 + 0.1 * rng.standard_normal(steps))


def test_loss_curve(tmp_path: Path) -> None:
    steps, loss = noisy_loss(600)
    path = plot_loss(steps, loss, tmp_path / "loss.png")
    pixels = assert_readable(path, (int(4.5 * DPI), int(7.5 * DPI)))
    assert pixels_of(pixels, PALETTE[0]) > 500  # the bold moving average
    assert pixels_of(pixels, PALETTE[0], alpha=0.3, tol=0.06) > 500  # the faint raw steps


def test_moving_average_keeps_levels_and_slopes() -> None:
    assert smoothing_window(10) == 1 and smoothing_window(600) == 15
    np.testing.assert_allclose(moving_average(np.full(50, 2.0), 7), 2.0)
    line = np.arange(50, dtype=float)
    np.testing.assert_allclose(moving_average(line, 7)[3:-3], line[3:-3])


def test_accuracy_per_epoch(tmp_path: Path) -> None:
    path = plot_accuracy([1, 2, 3], [0.81, 0.9, 0.93], tmp_path / "accuracy.png",
                         train=[0.7, 0.88, 0.95])
    pixels = assert_readable(path, (540, 900))
    assert pixels_of(pixels, PALETTE[0]) > 300 and pixels_of(pixels, PALETTE[1]) > 300
    test_only = decode(plot_accuracy([1, 2, 3], [0.81, 0.9, 0.93], tmp_path / "test.png"))
    assert pixels_of(test_only, PALETTE[1]) == 0


def test_overlaid_runs_draw_one_colour_per_job(tmp_path: Path) -> None:
    runs = [Series(f"job {i}", *noisy_loss(400, seed=i, scale=1 + 0.3 * i)) for i in range(3)]
    pixels = assert_readable(plot_runs(runs, tmp_path / "runs.png"), (576, 960))
    for i in range(3):
        assert pixels_of(pixels, PALETTE[i]) > 200, f"run {i} missing"
    assert pixels_of(pixels, PALETTE[3]) == 0
    with pytest.raises(ReportError, match="3 x values but 2 y values"):
        plot_runs([Series("bad", [1, 2, 3], [1, 2])], tmp_path / "bad.png")


def test_confusion_matrix(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    matrix = rng.integers(0, 30, (10, 10))
    matrix[np.diag_indices(10)] = 900
    names = DATASETS["fashion-mnist"].classes
    pixels = assert_readable(plot_confusion(matrix, names, tmp_path / "confusion.png"))
    assert pixels.shape[1] > pixels.shape[0]  # room for the colour bar
    dark_blue = pixels_of(pixels, "#08306b", tol=0.12)  # the "Blues" map's far end
    assert dark_blue > 1000, "diagonal cells not shaded"
    with pytest.raises(ReportError, match=r"\[10, 10\]"):
        plot_confusion(matrix[:9], names, tmp_path / "bad.png")


@pytest.fixture(scope="module")
def mnist_test(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray]:
    from tests.conftest import DATASETS as SHARED

    cache = tmp_path_factory.mktemp("cache")
    split = load_split("mnist", "test", DataSource(SHARED / "mnist", cache))
    return split.images[:16], split.labels[:16]


def test_prediction_grid_marks_wrong_predictions_red(
    tmp_path: Path, mnist_test: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = mnist_test
    names = DATASETS["mnist"].classes
    right = assert_readable(plot_predictions(images, labels, labels, names,
                                             tmp_path / "right.png"))
    assert pixels_of(right, WRONG) == 0 and pixels_of(right, RIGHT) > 100
    predicted = labels.copy()
    predicted[[2, 9]] = (labels[[2, 9]] + 1) % 10
    wrong = assert_readable(plot_predictions(images[:, None], predicted, labels, names,
                                             tmp_path / "wrong.png"))
    assert pixels_of(wrong, WRONG) > 50
    assert wrong.shape[:2] == right.shape[:2] == (int((1.5 * 2 + 0.6) * DPI), int(1.35 * 8 * DPI))
    with pytest.raises(ReportError, match="15 predictions"):
        plot_predictions(images, predicted[:15], labels, names, tmp_path / "bad.png")


def test_accuracy_bars_with_intervals(tmp_path: Path) -> None:
    bars = {"statevector": wilson(9120, 10000), "aer": wilson(905, 1000),
            "pennylane:default.mixed": wilson(88, 100)}
    pixels = assert_readable(plot_accuracy_bars(bars, tmp_path / "bars.png", reference=0.912))
    for i in range(3):
        assert pixels_of(pixels, PALETTE[i], alpha=0.85) > 2000, f"bar {i} missing"
    assert pixels_of(pixels, PALETTE[3], alpha=0.85) == 0
    with pytest.raises(ReportError):
        plot_accuracy_bars({}, tmp_path / "none.png")


def test_circuit_diagram_colours_gates_by_role(tmp_path: Path) -> None:
    template = CircuitTemplate(4, 2, "angle-rz", "ryrz", "cnot-ring", ("z", "zz"))
    pixels = assert_readable(plot_circuit(template, tmp_path / "circuit.png"))
    for kind in ("x", "w", "fixed"):  # angle-rz starts with Hadamards
        assert pixels_of(pixels, STYLE[kind][0]) > 300, kind
    plain = decode(plot_circuit(CircuitTemplate(4, 2), tmp_path / "plain.png"))
    assert pixels_of(plain, STYLE["fixed"][0]) == 0


def test_circuit_layout_packs_like_the_text_drawing_and_deep_ones_are_cut(
    tmp_path: Path
) -> None:
    template = CircuitTemplate(3, 1, "angle-ry", "ry", "cnot-ring")
    assert [c for c, _ in layout(template)] == [0, 0, 0, 1, 1, 1, 2, 3, 4]
    assert len(template.draw().splitlines()[0].split("-")) > 1  # the text form exists too
    deep = CircuitTemplate(3, 40, "reupload-ry", "rot", "cnot-ring")
    wide = decode(plot_circuit(deep, tmp_path / "deep.png"))
    deeper = decode(plot_circuit(CircuitTemplate(3, 50, "reupload-ry", "rot", "cnot-ring"),
                                 tmp_path / "deeper.png"))
    assert wide.shape == deeper.shape  # both cut at MAX_COLUMNS
    assert wide.shape[1] == int((0.62 * MAX_COLUMNS + 2.4) * DPI)


def test_only_png_paths_are_written(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="PNG"):
        plot_loss([1, 2], [1.0, 0.5], tmp_path / "loss.jpg")
