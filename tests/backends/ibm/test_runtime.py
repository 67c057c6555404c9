"""IBM adapter: credentials and network errors, retired/unknown devices, jobs, decoding, fakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import (
    CapabilityError,
    CredentialsError,
    DeviceUnavailableError,
    ProviderJobError,
    ProviderUnreachableError,
)
from qorch.backends.ibm.jobs import classify
from qorch.backends.ibm.runtime import IBMRuntimeBackend
from qorch.backends.registry import resolve
from tests.backends.fakes import FakeRuntimeJob, FakeRuntimeService, ibm_backend, program_result
from tests.backends.shots import batch, standard_errors

REPO = Path(__file__).resolve().parents[3]
T2 = CircuitTemplate(2, 1, observables=("z", "probs"))


def _adapter(service: FakeRuntimeService, name: str = "ibm_fez") -> IBMRuntimeBackend:
    return IBMRuntimeBackend(name, shots=100, service=service, poll_interval=0.01)


def test_retrieve_decodes_a_finished_job() -> None:
    bits = np.zeros((2, 4, 2), dtype=bool)
    bits[0, :, 0] = True  # row 0: qubit 0 always 1
    bits[1, :2, 1] = True  # row 1: qubit 1 is 1 in half the shots
    job = FakeRuntimeJob("d1a2", ["DONE"], result=program_result(bits))
    handle = _adapter(FakeRuntimeService(jobs={"d1a2": job})).retrieve("d1a2", batch(T2, 2, 4))
    assert handle.provider_job_id == "d1a2" and handle.status() == "DONE"
    out = handle.result(timeout=1)
    np.testing.assert_allclose(out[0], [-1, 1, 0, 0, 1, 0])  # probs index 0b10: qubit 0 = MSB
    np.testing.assert_allclose(out[1], [1, 0, 0.5, 0.5, 0, 0])


def test_queued_job_reports_its_position_and_times_out() -> None:
    job = FakeRuntimeJob("q7", ["QUEUED"], position=7)
    handle = _adapter(FakeRuntimeService(jobs={"q7": job})).retrieve("q7", batch(T2, 1, 4))
    assert handle.phase() == "waiting for ibm_fez, queue position 7"
    with pytest.raises(TimeoutError, match="QUEUED"):
        handle.result(timeout=0.05)
    handle.cancel()
    assert job.cancel_calls == 1
    with pytest.raises(ProviderJobError, match="CANCELLED"):
        handle.result(timeout=1)


def test_job_moving_through_the_queue_then_done() -> None:
    bits = np.ones((1, 8, 2), dtype=bool)
    job = FakeRuntimeJob("r1", ["QUEUED", "RUNNING", "DONE"], result=program_result(bits))
    handle = _adapter(FakeRuntimeService(jobs={"r1": job})).retrieve("r1", batch(T2, 1, 8))
    assert handle.phase() == "waiting for ibm_fez, queue position not reported"
    assert handle.phase() == "running on ibm_fez"
    np.testing.assert_allclose(handle.result(timeout=5)[0, :2], [-1, -1])


def test_failed_and_missing_jobs_are_provider_job_errors() -> None:
    failed = FakeRuntimeJob("e1", ["ERROR"], error="Error code 1517; circuit too long")
    adapter = _adapter(FakeRuntimeService(jobs={"e1": failed}))
    with pytest.raises(ProviderJobError, match="ended ERROR: Error code 1517"):
        adapter.retrieve("e1", batch(T2, 1, 4)).result(timeout=1)
    with pytest.raises(ProviderJobError, match="not found"):
        adapter.retrieve("nope", batch(T2, 1, 4))


def test_wrong_row_count_in_a_result_is_refused() -> None:
    job = FakeRuntimeJob("w1", ["DONE"], result=program_result(np.zeros((3, 4, 2), dtype=bool)))
    handle = _adapter(FakeRuntimeService(jobs={"w1": job})).retrieve("w1", batch(T2, 2, 4))
    with pytest.raises(ProviderJobError, match="3 rows, expected 2"):
        handle.result(timeout=1)


def test_unknown_device_lists_what_the_account_offers() -> None:
    adapter = _adapter(FakeRuntimeService(device=None), "ibm_nonesuch")
    with pytest.raises(
        DeviceUnavailableError, match=r"unknown IBM device 'ibm_nonesuch'.*fake_fez"
    ):
        adapter.validate(T2, 100)


def test_too_wide_circuit_is_refused_before_submission() -> None:
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    adapter = _adapter(FakeRuntimeService(device=FakeManilaV2()))
    with pytest.raises(CapabilityError, match="at most 5 qubits; the circuit needs 6"):
        adapter.run_batch(batch(CircuitTemplate(6, 1), 2, 100))


def test_executor_path_runs_in_local_mode_and_matches_fake_device() -> None:
    """Batch + Executor + QuantumProgram on a FakeBackendV2 run in qiskit-ibm-runtime's local
    mode: the whole send path (transpile, one program item per batch, job id, decoding) against
    the fake_manila adapter's numbers."""
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    adapter = ibm_backend(FakeManilaV2())
    template = CircuitTemplate(3, 1, observables=("z", "zz"))
    other = CircuitTemplate(2, 2, observables=("z",))
    b, c = batch(template, 8, 4000, seed=4), batch(other, 3, 4000, seed=5)
    handle = adapter.run_batches([b, c])
    assert handle.provider_job_id
    fake = resolve("fake_manila", shots=4000, seed=1)
    for item, part in enumerate((b, c)):
        ibm = handle.result(item, timeout=120)
        want = fake.run_batch(part).result(timeout=120)
        se = np.sqrt(2) * standard_errors(part.template, (ibm + want) / 2, 4000)
        assert (np.abs(ibm - want) / se).max() < 5
    report = adapter.calibration_report(template)
    assert report["device"] == "fake_manila" and len(report["layout"]) == 3
    adapter.close()


def test_a_tagged_job_and_its_item_are_found_again() -> None:
    job = FakeRuntimeJob("t1", ["DONE"], tags=["qorch:j:3:train:0:0", "qorch:j:3:train:0:0#2"])
    adapter = _adapter(FakeRuntimeService(jobs={"t1": job}))
    assert adapter.find_tagged("qorch:j:3:train:0:0") == ("t1", 2)
    assert adapter.find_tagged("qorch:j:4:train:0:0") is None


def test_items_of_a_shared_job_decode_separately() -> None:
    first = np.zeros((2, 4, 2), dtype=bool)
    second = np.ones((1, 4, 2), dtype=bool)
    job = FakeRuntimeJob("s1", ["DONE"], result=program_result(first, second))
    adapter = _adapter(FakeRuntimeService(jobs={"s1": job}))
    np.testing.assert_allclose(adapter.retrieve("s1", batch(T2, 1, 4), item=1).result(1)[0, :2],
                               [-1, -1])
    with pytest.raises(ProviderJobError, match="no item 0"):
        adapter.retrieve("s1", batch(T2, 1, 4), item=1).result(0)


def test_calibration_report_of_a_fake_device() -> None:
    backend = resolve("fake_brisbane", shots=100)
    report = backend.calibration_report(CircuitTemplate(4, 2))
    assert report is not None
    json.dumps(report)
    assert report["device"] == "fake_brisbane"
    assert report["calibration_date"].startswith("20")
    assert set(report["layout"]) <= set(report["used_qubits"])
    assert {"ecr", "rz", "sx"} <= set(report["transpiled_ops"])
    for q in report["qubits"]:
        assert 0 < q["readout_error"] < 0.5 and 0 < q["sx_error"] < 0.1
        assert q["t1_s"] > 1e-6 and q["t2_s"] > 1e-6
    assert report["two_qubit_gates"] and all(
        0 < g["error"] < 0.5 for g in report["two_qubit_gates"]
    )


def test_no_credentials_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    backend = resolve("ibm_fez", shots=100)
    with pytest.raises(CredentialsError, match="no IBM Quantum credentials: set QISKIT_IBM_TOKEN"):
        backend.validate(T2, 100)


def test_real_service_errors_are_classified(tmp_path: Path) -> None:
    """The real QiskitRuntimeService in a clean process: no saved account, then a bogus token.
    Offline the token exchange fails with 'Unable to retrieve instances ... valid API token'
    although the cause is DNS: the cause chain must win."""
    script = textwrap.dedent(
        """
        import json
        from qiskit_ibm_runtime import QiskitRuntimeService
        from qorch.backends.ibm.jobs import classify
        from qorch.backends.provider_errors import network_cause
        out = {}
        for label, kwargs in [("none", {}), ("bogus", {"token": "x" * 44})]:
            try:
                QiskitRuntimeService(**kwargs)
            except Exception as err:
                mapped = classify(err, "connecting")
                out[label] = [type(mapped).__name__, str(mapped), network_cause(err) is not None]
        print(json.dumps(out))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("QISKIT_IBM")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["none"][0] == "CredentialsError" and "no IBM Quantum credentials" in out["none"][1]
    kind, message, offline = out["bogus"]
    assert kind == ("ProviderUnreachableError" if offline else "CredentialsError"), message


def test_cause_chain_tells_network_from_bad_token() -> None:
    import requests
    from qiskit_ibm_runtime.accounts.exceptions import InvalidAccountError
    from qiskit_ibm_runtime.exceptions import IBMNotAuthorizedError

    def chained(top: Exception, cause: Exception) -> Exception:
        top.__cause__ = cause
        return top

    offline = chained(InvalidAccountError("Unable to retrieve instances."),
                      requests.exceptions.ConnectionError("Name or service not known"))  # fmt: skip
    assert isinstance(classify(offline, "connecting"), ProviderUnreachableError)
    refused = InvalidAccountError("Unable to retrieve instances. valid API token")
    assert isinstance(classify(refused, "connecting"), CredentialsError)
    assert isinstance(classify(IBMNotAuthorizedError("401 Unauthorized"), "x"), CredentialsError)
