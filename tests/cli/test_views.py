"""list, status, logs and backends as people see them at 80 columns (real store, real command)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qorch.orchestrator.store.states import JobState
from tests.cli.jobs_in_store import TRAIN_SPEC, infer_job, make_job, train_metrics
from tests.cli.test_cli import assert_one_line_error, run

NARROW = {"COLUMNS": "80"}


def lines_of(args: list[str]) -> list[str]:
    result = run(args, env=NARROW)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    return lines


@pytest.mark.usefixtures("home")
def test_list_fits_80_columns_with_copyable_ids_and_source_models() -> None:
    train = make_job(metrics=train_metrics(), ran_s=125,
                     result={"test_accuracy": 0.9})
    infer = infer_job(train)
    stopped = make_job(state=JobState.INTERRUPTED, ran_s=600)
    fake = make_job(spec={**TRAIN_SPEC, "backend": "fake_brisbane"}, state=JobState.FAILED,
                    error="boom")
    lines = lines_of(["list"])
    assert lines[0].split() == ["id", "kind", "model", "data", "backend", "state", "age", "took",
                                "acc"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {j[:8] for j in (train, infer, stopped, fake)}  # one line each
    rows = {job: rows[job[:8]] for job in (train, infer, stopped, fake)}
    for prefix in (infer[:8], stopped[:8]):  # the prefixes shown are ids the commands take
        assert run(["status", prefix, "--json"]).returncode == 0
    wide = run(["list"], env={"COLUMNS": "100"}).stdout
    assert all(j in wide for j in (train, infer, stopped, fake))  # whole ids where they fit
    assert rows[infer][1:6] == ["infer", "hybrid-lenet", "fashion", "fake_armonk", "SUCCEEDED"]
    assert rows[train][-2:] == ["2m05s", "90.0%"]
    assert rows[stopped][-2:] == ["10m00s", "—"]  # stopped at its last heartbeat
    assert rows[train][6] == "now"
    listed = json.loads(run(["list", "--json"]).stdout)
    by_id = {j["id"]: j for j in listed}
    assert (by_id[infer]["model"], by_id[infer]["dataset"]) == ("hybrid-lenet", "fashion-mnist")
    assert by_id[stopped]["duration_s"] == pytest.approx(600, abs=2)


@pytest.mark.usefixtures("home")
def test_infer_status_shows_its_own_progress_and_a_readable_device() -> None:
    infer = infer_job(make_job())
    text = "\n".join(lines_of(["status", infer]))
    assert "100 of 100 test images (batch 1 of 1)" in text
    assert "60000" not in text and "None" not in text
    assert "1 qubit, 1 layer," in text and "1 output;" in text
    assert re.search(r"T1 µs +T2 µs +readout err +sx err", text)
    assert re.search(r"\b0 +151 +235 +1\.23% +0\.03%", text)  # µs and percentages, rounded
    assert "0.0123456" not in text and "calibration 2024-03-01" in text
    metric_rows = [line for line in text.splitlines() if line.startswith(("evaluated", "test_"))]
    assert len(metric_rows) == 2  # no confusion entries among the metrics
    status = json.loads(run(["status", infer, "--json"]).stdout)
    assert status["progress"] == {"step": 1, "total_steps": 1, "images": 100,
                                  "test_images": 100}


@pytest.mark.usefixtures("home")
def test_logs_per_epoch_steps_tail_and_json() -> None:
    train = make_job(metrics=train_metrics())
    default = lines_of(["logs", train])
    metric_lines = [line for line in default if " metric " in line]
    assert len(metric_lines) == 3  # one per epoch, not one per step
    assert "metric epoch=2 step=20 loss=0.05 train_acc=70.0% test_acc=80.0%" in \
        metric_lines[1]
    steps = run(["logs", train, "--steps"]).stdout.splitlines()
    assert len([line for line in steps if " metric " in line]) == 30
    tail = run(["logs", train, "--steps", "--tail", "2"]).stdout.splitlines()
    assert len(tail) == 2 and "SUCCEEDED" in tail[-1] and "step=30" in tail[0]
    records = [json.loads(line) for line in run(["logs", train, "--json"]).stdout.splitlines()]
    assert [r["type"] for r in records].count("metric") == 3
    assert records[0] == {**records[0], "type": "event", "to": "QUEUED"}
    assert records[-1]["to"] == "SUCCEEDED"
    assert_one_line_error(run(["logs", train, "--worker", "--tail", "3"]), 2,
                          "--tail would be ignored")
    assert_one_line_error(run(["logs", train, "--tail", "0"]), 2, "--tail")


@pytest.mark.usefixtures("home")
def test_logs_of_an_inference_show_the_confusion_matrix_as_a_matrix() -> None:
    infer = infer_job(make_job())
    lines = lines_of(["logs", infer])
    assert len([line for line in lines if " metric " in line]) == 1
    start = lines.index("confusion matrix (rows: true class, columns: predicted)")
    matrix = lines[start + 1:start + 12]
    assert matrix[0].split() == [str(i) for i in range(10)]
    assert matrix[4].split() == ["3", "0", "0", "0", "6", "0", "4", "0", "0", "0", "0"]
    last = json.loads(run(["logs", infer, "--json"]).stdout.splitlines()[-1])
    assert last["type"] == "confusion" and last["matrix"][3][5] == 4


@pytest.mark.usefixtures("home")
def test_backends_are_grouped_and_fit_80_columns() -> None:
    lines = lines_of(["backends"])
    assert len(lines) < 80
    for group in ("simulators", "emulators", "IBM Quantum", "Amazon Braket"):
        assert group in lines
    text = "\n".join(lines)
    assert "68 fake devices" in text and "fake_brisbane (127)" in text
    assert "fake_armonk" not in text  # summarised
    every = run(["backends", "--all"], env=NARROW).stdout
    assert len([line for line in every.splitlines() if line.startswith("fake_")]) == 68
    assert_one_line_error(run(["backends", "--all", "--json"]), 2, "--all would be ignored")


def test_a_failed_download_is_one_line_naming_the_setting(tmp_path: Path, home: Path) -> None:
    result = run(["submit", "train", "--dry-run"],
                 env={"QORCH_DATASET_MIRROR": "http://127.0.0.1:9/"}, timeout=120)
    assert_one_line_error(result, 1, "cannot download train-images-idx3-ubyte.gz of mnist",
                          "set QORCH_DATA_DIR")
    assert len(result.stderr.strip()) < 240


def test_one_qubit_is_singular(home: Path, mnist_dir: Path) -> None:
    result = run(["submit", "train", "--backend", "fake_armonk", "--qubits", "2",
                  "--data-dir", str(mnist_dir)], timeout=120)
    assert_one_line_error(result, 2, "fake_armonk takes at most 1 qubit; the circuit needs 2")
