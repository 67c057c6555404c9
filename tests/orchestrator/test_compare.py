"""Comparisons on a real cluster: one trained model on several backends as a job (paired
statistics, usage, calibration; it survives a kill), trained models side by side, reports."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from qorch.jobs.compare.spec import BackendToken, parse_backends
from qorch.jobs.errors import SpecError
from qorch.orchestrator.service import Service
from qorch.orchestrator.settings import Settings
from qorch.orchestrator.store.states import JobState

NOISY = "aer:depol1=0.02,depol2=0.08,readout=0.05"


@pytest.fixture
def service(settings: Settings) -> Service:
    return Service(settings)


@pytest.fixture
def trained(service: Service) -> str:
    job = service.follow(service.submit(service.train_spec(dict(
        model="hybrid-lenet", qubits=3, layers=1, train_size=1024, test_size=300, epochs=1,
        lr=0.01))), lambda *a: None)
    assert job.state is JobState.SUCCEEDED
    return job.id


def test_backend_tokens_carry_their_noise() -> None:
    assert parse_backends("statevector, aer:depol1=0.001,depol2=0.02,fake_brisbane") == (
        BackendToken("statevector"), BackendToken("aer", "depol1=0.001,depol2=0.02"),
        BackendToken("fake_brisbane"))
    assert parse_backends("braket:sv1,pennylane:default.mixed:depol1=0.1+amp=0.01") == (
        BackendToken("braket:sv1"), BackendToken("pennylane:default.mixed",
                                                 "depol1=0.1,amp=0.01"))
    with pytest.raises(SpecError, match="follows no backend"):
        parse_backends("depol1=0.1,aer")


def test_a_backend_comparison_is_a_job_with_paired_statistics(service: Service, trained: str,
                                                              tmp_path: Path) -> None:
    spec = service.compare_spec(trained, dict(
        backends=("statevector", NOISY, "fake_manila"), shots=1024, test_size=200))
    job = service.follow(service.submit(spec), lambda *a: None)
    assert job.state is JobState.SUCCEEDED, job.error
    assert job.kind == "compare" and job.id in [j.id for j in service.jobs()]
    result = job.result or {}
    assert result["reference"] == "statevector" and result["test_images"] == 200
    exact, noisy, device = result["backends"]
    for row in (exact, noisy, device):
        acc = row["accuracy"]
        assert acc["low"] <= acc["value"] <= acc["high"] and acc["total"] == 200
        assert row["usage"]["provider_jobs"] >= 1 and len(row["per_class"]) == 10
    assert "vs_reference" not in exact and exact["usage"]["shots"] == 0  # exact: no shots
    versus = noisy["vs_reference"]
    assert versus["low"] <= versus["difference"] <= versus["high"]
    assert 0 <= versus["mcnemar_p"] <= 1
    assert noisy["output_delta"]["mean_abs"] > 0.01  # the noise, before the head hides it
    calibration = device["calibration"]
    assert calibration["calibration_date"].startswith("20")
    assert 0 < calibration["median_readout_error"] < 0.5
    assert 0 < calibration["median_2q_error"] < 0.5
    page = service.report(job.id, tmp_path / "report")
    assert (tmp_path / "report" / "backends.png").stat().st_size > 10_000
    assert "backends.png" in page.read_text()


def test_a_comparison_survives_a_kill_and_equals_an_uninterrupted_one(service: Service,
                                                                      trained: str) -> None:
    import ray

    from qorch.orchestrator.runtime.names import job_actor

    options = dict(backends=(NOISY, "fake_manila"), shots=512, test_size=300)
    reference = service.follow(service.submit(service.compare_spec(trained, options)),
                               lambda *a: None)
    job_id = service.submit(service.compare_spec(trained, options))
    deadline = time.monotonic() + 120
    while "evaluating" not in (service.job(job_id).phase or ""):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    pid = ray.get(ray.get_actor(job_actor(job_id)).pid.remote())
    os.kill(pid, signal.SIGKILL)
    job = service.follow(job_id, lambda *a: None)
    assert job.state is JobState.SUCCEEDED, job.error
    assert "INTERRUPTED" in [e.to_state for e in service.status(job_id).events]
    assert job.result is not None and reference.result is not None
    assert job.result["predictions"] == reference.result["predictions"]


def test_trained_models_side_by_side(service: Service, trained: str, tmp_path: Path) -> None:
    cnn = service.follow(service.submit(service.train_spec(dict(
        model="cnn", train_size=1024, test_size=300, epochs=1))), lambda *a: None)
    result = service.compare_trained([trained, cnn.id], tmp_path / "side")
    assert result["paired"] and result["reference"] == trained
    hybrid, classical = result["models"]
    assert hybrid["circuit"]["qubits"] == 3 and classical["circuit"] is None
    assert classical["parameters"]["quantum"] == 0 < hybrid["parameters"]["quantum"]
    versus = classical["vs_reference"]
    assert versus["low"] <= versus["difference"] <= versus["high"]
    assert all(Path(p).stat().st_size > 10_000 for p in result["pictures"].values())


def test_a_training_report_draws_every_picture(service: Service, trained: str,
                                               tmp_path: Path) -> None:
    from matplotlib.image import imread

    page = service.report(trained, tmp_path / "r")
    text = page.read_text()
    for name in ("loss.png", "accuracy.png", "confusion.png", "predictions.png", "circuit.png"):
        assert name in text
        pixels = imread(tmp_path / "r" / name)
        assert pixels.shape[0] > 200 and float(np.std(pixels)) > 0.02, name
