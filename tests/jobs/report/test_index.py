"""The Markdown index page ties pictures to a job's spec and numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from qorch.jobs.report.canvas import ReportError
from qorch.jobs.report.curves import plot_loss
from qorch.jobs.report.index import IndexPage, format_value, render_index, write_index


def test_index_links_pictures_and_lists_spec_and_results(tmp_path: Path) -> None:
    plot_loss([1, 2, 3], [2.0, 1.0, 0.5], tmp_path / "loss.png")
    page: IndexPage = {
        "title": "hybrid-lenet on mnist",
        "job_id": "j-123",
        "summary": "4 qubits on statevector",
        "spec": {"dataset": "mnist", "model": {"name": "hybrid-lenet", "lr": 0.001},
                 "backend": "statevector"},
        "results": {"test_accuracy": 0.912345, "steps": 600,
                    "predictions": list(range(10000))},
        "tables": {"Per-class accuracy": [{"class": "0", "accuracy": 0.98},
                                          {"class": "1", "accuracy": 0.99, "n": 1135}]},
        "images": {"Loss per step": "loss.png"},
    }
    path = write_index(page, tmp_path / "index.md")
    text = path.read_text()
    assert text.startswith("# hybrid-lenet on mnist\n")
    assert "Job `j-123`" in text and "4 qubits on statevector" in text
    assert "![Loss per step](loss.png)" in text and (tmp_path / "loss.png").is_file()
    assert "| `test_accuracy` | 0.9123 |" in text and "| `steps` | 600 |" in text
    assert "| `predictions` | [10000 values] |" in text
    assert "| `model.lr` | 0.001 |" in text and "| `model.name` | hybrid-lenet |" in text
    assert "| class | accuracy | n |" in text and "| 0 | 0.98 |  |" in text
    # Sections in reading order: numbers, tables, pictures, then the full spec.
    order = [text.index(h) for h in ("## Results", "## Per-class", "## Loss", "## Spec")]
    assert order == sorted(order)


def test_missing_pictures_and_titles_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"nothing\.png"):
        write_index({"title": "t", "images": {"x": "nothing.png"}}, tmp_path / "index.md")
    with pytest.raises(ReportError, match="title"):
        render_index({"job_id": "x"})


def test_cells_escape_pipes_and_round_floats() -> None:
    assert format_value("a|b") == "a\\|b"
    assert format_value(1 / 3) == "0.3333" and format_value(float("nan")) == "nan"
    assert format_value([1, 2.5]) == "[1, 2.5]" and format_value(None) == "None"
