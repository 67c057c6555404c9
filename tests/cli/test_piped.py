"""Attached runs with stdout a pipe: plain progress lines, a whole final line; the data folder
of the first run is remembered for the next plain command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.test_cli import run


@pytest.mark.usefixtures("on_cluster")
def test_piped_runs_show_progress_and_the_next_command_finds_the_data(mnist_dir: Path) -> None:
    first = run(["submit", "train", "--epochs", "2", "--train-size", "600", "--test-size", "100"],
                env={"QORCH_DATA_DIR": str(mnist_dir.parent), "COLUMNS": "80"})
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    final = re.fullmatch(r"job ([0-9a-f]{12}) SUCCEEDED, test accuracy \d+\.\d\d%", lines[-1])
    assert final, lines
    job_id = final.group(1)
    assert f"job {job_id} RUNNING step 0/20  epoch 1/2" in lines
    epochs = [line for line in lines if re.search(r"step (10|20)/20  epoch \d/2  loss .* "
                                                  r"test acc \d+\.\d\d%$", line)]
    assert len(epochs) == 2, lines  # one line per epoch, while the job runs

    infer = run(["submit", "infer", "--from", job_id, "--test-size", "50"])  # no data folder
    assert infer.returncode == 0, infer.stderr
    out = infer.stdout
    assert "None" not in out and "50/50 images" in out and "epoch" not in out
    assert re.search(r"SUCCEEDED, test accuracy \d+\.\d\d%$", out.strip())

    plain = run(["submit", "train", "--dry-run", "--json", "--train-size", "60"])
    assert plain.returncode == 0, plain.stderr  # the remembered folder, not a download
    assert json.loads(plain.stdout)["train_examples"] == 60
