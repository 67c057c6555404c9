"""Every locally runnable backend against the exact simulator: shot statistics, noise, limits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Backend, CircuitBatch, JobHandle
from qorch.backends.errors import BackendError, CapabilityError, ProviderJobError
from qorch.backends.registry import resolve
from tests.backends.shots_helpers import TEMPLATES, batch, exact, standard_errors, z_columns

SHOTS = 2000
NOISE = "depol1=0.01,depol2=0.04,readout=0.03,amp=0.01,phase=0.01"
NOISELESS: dict[str, Callable[[], Backend]] = {
    "statevector-shots": lambda: resolve("statevector", shots=SHOTS, seed=11),
    "aer": lambda: resolve("aer", shots=SHOTS, seed=11),
    "braket_sv": lambda: resolve("braket_sv", shots=SHOTS, seed=11),
    "braket_dm": lambda: resolve("braket_dm", shots=SHOTS, seed=11),
}
NOISY: dict[str, Callable[[], Backend]] = {
    "aer+noise": lambda: resolve("aer", shots=SHOTS, noise=NOISE, seed=11),
    "braket_dm+noise": lambda: resolve("braket_dm", shots=SHOTS, noise=NOISE, seed=11),
    "fake_brisbane": lambda: resolve("fake_brisbane", shots=SHOTS, seed=11),
    "fake_manila": lambda: resolve("fake_manila", shots=SHOTS, seed=11),
    "fake_fez": lambda: resolve("fake_fez", shots=SHOTS, seed=11),  # Heron: cz basis, 156 qubits
}
ALL = {**NOISELESS, **NOISY}
_made: dict[str, Backend] = {}


def make(name: str) -> Backend:
    if name not in _made:
        _made[name] = ALL[name]()
    return _made[name]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.hash[:6])
@pytest.mark.parametrize("name", list(NOISELESS))
def test_noiseless_backends_agree_with_exact_within_5_standard_errors(
    name: str, template: CircuitTemplate
) -> None:
    b = batch(template, 6, SHOTS, seed=3)
    out = make(name).submit(b).result(timeout=120)
    want = exact(b)
    assert out.shape == want.shape == (6, template.n_outputs)
    assert out.dtype == np.float64
    z = np.abs(out - want) / standard_errors(template, want, SHOTS)
    assert z.max() < 5, f"{name}: worst output {z.max():.1f} standard errors from exact"


@pytest.mark.parametrize("name", list(NOISY))
def test_noisy_backends_contract_z_toward_zero(name: str) -> None:
    template = CircuitTemplate(3, 1, "angle-ry", "ry", "cnot-chain", ("z",))
    b = batch(template, 24, SHOTS, seed=5)
    out = make(name).submit(b).result(timeout=120)[:, z_columns(template)]
    want = exact(b)[:, z_columns(template)]
    large = np.abs(want) > 0.5
    assert large.sum() >= 10
    # Depolarizing, damping and readout flips all pull <Z> toward 0 (damping toward +1 only
    # on |1>-heavy states, outweighed here); shot noise on the mean is ~0.005.
    assert np.abs(out[large]).mean() < np.abs(want[large]).mean() - 0.01
    assert np.abs(out - want).mean() < 0.25, "noise too strong: outputs no longer track exact"


def test_aer_and_braket_dm_build_the_same_noise_channels() -> None:
    template = TEMPLATES[0]
    b = batch(template, 5, SHOTS, seed=9)
    aer = make("aer+noise").submit(b).result(timeout=120)
    dm = make("braket_dm+noise").submit(b).result(timeout=120)
    se = np.sqrt(2) * standard_errors(template, (aer + dm) / 2, SHOTS)
    assert (np.abs(aer - dm) / se).max() < 5
    assert np.abs(aer - exact(b)).mean() > 0.02  # the noise is really there


def test_statevector_without_shots_is_exact() -> None:
    template = TEMPLATES[0]
    b = batch(template, 4, None)
    out = resolve("statevector").submit(b).result()
    np.testing.assert_allclose(out, exact(b), atol=1e-12)
    assert resolve("statevector").capabilities.exact
    assert resolve("statevector").capabilities.differentiable


@pytest.mark.parametrize("name", list(ALL))
def test_capabilities_are_enforced_by_validate(name: str) -> None:
    backend = make(name)
    caps = backend.capabilities
    template = TEMPLATES[2]
    assert isinstance(backend, Backend)
    backend.validate(template, SHOTS)
    with pytest.raises(CapabilityError, match="shots"):
        backend.validate(template, caps.max_shots + 1)
    with pytest.raises(CapabilityError, match="circuits per job"):
        backend.validate(template, SHOTS, caps.max_circuits_per_job + 1)
    if caps.max_qubits < 20:
        wide = CircuitTemplate(caps.max_qubits + 1, 1)
        with pytest.raises(CapabilityError, match=f"at most {caps.max_qubits} qubits"):
            backend.validate(wide, SHOTS)
    if not caps.exact:
        with pytest.raises(CapabilityError, match="shots"):
            backend.validate(template, None)


def test_a_batch_beyond_max_circuits_is_refused_at_submit() -> None:
    backend = make("fake_manila")
    too_many = backend.capabilities.max_circuits_per_job + 1
    with pytest.raises(CapabilityError, match="circuits per job"):
        backend.submit(batch(TEMPLATES[2], too_many, SHOTS))


@pytest.mark.parametrize("name", list(ALL))
def test_bad_input_is_refused_before_submission(name: str) -> None:
    backend = make(name)
    b = batch(TEMPLATES[2], 3, SHOTS)
    b.params[1, 2] = np.nan
    with pytest.raises(CapabilityError, match="row 1 contains NaN"):
        backend.submit(b)
    for shots in (0, -5, True, 2.5):
        with pytest.raises(CapabilityError):
            backend.submit(CircuitBatch(TEMPLATES[2], batch(TEMPLATES[2], 2, None).params, shots))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(ALL))
def test_retrieve_of_a_finished_local_job_returns_the_same_result(name: str) -> None:
    backend = make(name)
    b = batch(TEMPLATES[0] if name != "fake_manila" else TEMPLATES[2], 3, 500, seed=21)
    handle = backend.submit(b)
    assert isinstance(handle, JobHandle)
    first = handle.result(timeout=120)
    assert handle.status() == "DONE" and handle.phase() is None
    again = backend.retrieve(handle.provider_job_id, b)
    np.testing.assert_array_equal(again.result(timeout=120), first)
    # After a restart the job is gone from memory; its id carries the seed, so a fresh adapter
    # re-runs it bit for bit instead of silently drawing new shots.
    engine, _, seed = handle.provider_job_id.rpartition("/seed=")
    fresh = ALL[name]().retrieve(f"restarted-{engine}/seed={seed}", b)
    np.testing.assert_array_equal(fresh.result(timeout=120), first)
    with pytest.raises(ProviderJobError, match="no seed"):
        backend.retrieve("not-a-local-job", b)


def test_noise_is_refused_where_it_is_not_supported() -> None:
    for name in ("statevector", "braket_sv", "fake_brisbane"):
        with pytest.raises(CapabilityError):
            resolve(name, shots=100, noise="depol1=0.01")
    with pytest.raises(CapabilityError, match="thermal"):
        resolve("braket_dm", shots=100, noise="t1=50e-6,t2=70e-6")
    assert resolve("aer", shots=100, noise="t1=50e-6,t2=70e-6").capabilities.supports_noise


def test_errors_are_one_line() -> None:
    with pytest.raises(BackendError) as info:
        make("braket_dm").validate(CircuitTemplate(14, 1), SHOTS)
    assert "\n" not in str(info.value)
