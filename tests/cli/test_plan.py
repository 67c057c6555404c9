"""--dry-run plans as people read them: estimates, warnings, cloud devices offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import job_count, run

OFFLINE = {"QISKIT_IBM_TOKEN": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
           "AWS_EC2_METADATA_DISABLED": "true", "COLUMNS": "80"}


def plan(home: Path, *args: str) -> tuple[str, dict]:
    env = {**OFFLINE, "HOME": str(home), "AWS_CONFIG_FILE": str(home / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "none")}
    text = run(["submit", "train", *args, "--dry-run"], env=env, timeout=180)
    assert text.returncode == 0, text.stderr
    assert all(len(line) <= 80 for line in text.stdout.splitlines()), text.stdout
    data = run(["submit", "train", *args, "--dry-run", "--json"], env=env, timeout=180)
    return text.stdout, json.loads(data.stdout)


def test_the_default_model_on_a_fake_device_warns_of_a_huge_plan(home: Path,
                                                                 mnist_dir: Path) -> None:
    text, data = plan(home, "--backend", "fake_brisbane", "--data-dir", str(mnist_dir))
    assert data["circuits"] == 14_610_000 and data["shots"] == 14_960_640_000
    assert "14.6 M (1,024 shots each: 15.0 G shots)" in text
    assert "warning: a huge plan: 14.6 M circuits, 15.0 G shots" in text
    assert data["estimate"]["wall_s"] == pytest.approx(14_610_000 / 1000)
    assert "wall time      about 4h 03m" in text
    small, data = plan(home, "--backend", "fake_brisbane", "--data-dir", str(mnist_dir),
                       "--train-size", "64", "--test-size", "32", "--epochs", "1",
                       "--qubits", "2", "--batch-size", "32")
    assert data["warnings"] == [] and "warning" not in small
    assert job_count() == 0


def test_cloud_devices_are_planned_offline_saying_what_is_unknown(home: Path,
                                                                  mnist_dir: Path) -> None:
    args = ("--data-dir", str(mnist_dir), "--train-size", "64", "--test-size", "32",
            "--epochs", "1", "--qubits", "4", "--batch-size", "32")
    text, ibm = plan(home, "--backend", "ibm_fez", *args)
    assert ibm["estimate"]["qpu_s"] == pytest.approx(ibm["shots"] * 250e-6
                                                     + ibm["provider_jobs"] * 2.0)
    assert ibm["estimated_cost"]["usd"] is None and "QPU time" in text
    assert "no IBM Quantum credentials" in ibm["not_known_offline"] and "not known" in text
    text, braket = plan(home, "--backend", "braket:garnet", *args)
    assert braket["estimated_cost"]["usd"] > 0 and braket["estimated_cost"]["kind"] == \
        "list price"
    assert "no AWS credentials" in braket["not_known_offline"] and "cost           $" in text
    wide = run(["submit", "train", "--backend", "braket:dm1", *args, "--qubits", "18",
                "--dry-run"], env={**OFFLINE, "HOME": str(home)}, timeout=180)
    assert wide.returncode == 2 and "takes at most 17 qubits" in wide.stderr
    refused = run(["submit", "train", "--backend", "ibm_fez", *args],
                  env={**OFFLINE, "HOME": str(home)}, timeout=180)
    assert refused.returncode == 1 and "no IBM Quantum credentials" in refused.stderr
    assert job_count() == 0


def test_exact_training_is_estimated_from_images(home: Path, mnist_dir: Path) -> None:
    text, data = plan(home, "--data-dir", str(mnist_dir))
    assert data["estimate"]["wall_s"] == pytest.approx((3 * 60_000 + 10_000) / 4000)
    assert "circuits   none sent" in text and "warning" not in text
