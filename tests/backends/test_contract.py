"""Every backend through the one contract, against the exact simulator: shot statistics, noise,
limits, items, seeds. The IBM and Braket cloud adapters take part over local stand-ins."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.contract import Backend, CircuitBatch, JobHandle
from qorch.backends.errors import BackendError, CapabilityError, ProviderJobError
from qorch.backends.local.backend import SEED_BLOCK_ROWS, block_seed, seed_blocks
from qorch.backends.registry import resolve
from tests.backends.fakes import braket_device_backend, ibm_backend
from tests.backends.shots import TEMPLATES, batch, exact, standard_errors, z_columns

SHOTS = 2000
NOISE = "depol1=0.01,depol2=0.04,readout=0.03,amp=0.01,phase=0.01"


def _ibm_manila() -> Backend:
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    backend: Backend = ibm_backend(FakeManilaV2(), "ibm_manila")
    return backend


LOCAL_NOISELESS: dict[str, Callable[[], Backend]] = {
    "statevector-shots": lambda: resolve("statevector", seed=11),
    "aer": lambda: resolve("aer", seed=11),
    "braket_sv": lambda: resolve("braket_sv", seed=11),
    "braket_dm": lambda: resolve("braket_dm", seed=11),
    "pennylane:default.qubit": lambda: resolve("pennylane:default.qubit", seed=11),
    "pennylane:lightning.qubit": lambda: resolve("pennylane:lightning.qubit", seed=11),
    "pennylane:default.mixed": lambda: resolve("pennylane:default.mixed", seed=11),
}
CLOUD_NOISELESS: dict[str, Callable[[], Backend]] = {
    "braket:sv1 (local stand-in)": braket_device_backend,
}
LOCAL_NOISY: dict[str, Callable[[], Backend]] = {
    "aer+noise": lambda: resolve("aer", noise=NOISE, seed=11),
    "braket_dm+noise": lambda: resolve("braket_dm", noise=NOISE, seed=11),
    "fake_brisbane": lambda: resolve("fake_brisbane", seed=11),
    "fake_manila": lambda: resolve("fake_manila", seed=11),
    "fake_fez": lambda: resolve("fake_fez", seed=11),  # Heron: cz basis, 156 qubits
    "pennylane:default.mixed+noise": lambda: resolve("pennylane:default.mixed", noise=NOISE,
                                                     seed=11),
    # The Aer path, kept selectable for cross-checks, under the same contract.
    "fake_brisbane (aer engine)": lambda: resolve("fake_brisbane", seed=11, engine="aer"),
    "aer+noise (aer engine)": lambda: resolve("aer", noise=NOISE, seed=11, engine="aer"),
}
CLOUD_NOISY: dict[str, Callable[[], Backend]] = {"ibm_manila (local mode)": _ibm_manila}
NOISELESS = {**LOCAL_NOISELESS, **CLOUD_NOISELESS}
NOISY = {**LOCAL_NOISY, **CLOUD_NOISY}
LOCAL = {**LOCAL_NOISELESS, **LOCAL_NOISY}
ALL = {**NOISELESS, **NOISY}
_made: dict[str, Backend] = {}


def make(name: str) -> Backend:
    if name not in _made:
        _made[name] = ALL[name]()
    return _made[name]


def fits(name: str, template: CircuitTemplate) -> CircuitTemplate:
    """5-qubit devices take the 4-qubit template; others the one asked for."""
    return TEMPLATES[2] if "manila" in name and template.n_qubits > 3 else template


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.hash[:6])
@pytest.mark.parametrize("name", list(NOISELESS))
def test_noiseless_backends_agree_with_exact_within_5_standard_errors(
    name: str, template: CircuitTemplate
) -> None:
    b = batch(template, 6, SHOTS, seed=3)
    out = make(name).run_batch(b).result(timeout=120)
    want = exact(b)
    assert out.shape == want.shape == (6, template.n_outputs)
    assert out.dtype == np.float64
    z = np.abs(out - want) / standard_errors(template, want, SHOTS)
    assert z.max() < 5, f"{name}: worst output {z.max():.1f} standard errors from exact"


@pytest.mark.parametrize("name", list(NOISY))
def test_noisy_backends_contract_z_toward_zero(name: str) -> None:
    template = CircuitTemplate(3, 1, "angle-ry", "ry", "cnot-chain", ("z",))
    b = batch(template, 24, 20 * SHOTS, seed=5)
    out = make(name).run_batch(b).result(timeout=120)[:, z_columns(template)]
    want = exact(b)[:, z_columns(template)]
    large = np.abs(want) > 0.5
    assert large.sum() >= 10
    # Depolarizing, damping and readout flips all pull <Z> toward 0 (damping toward +1 only
    # on |1>-heavy states, outweighed here). The quietest device (fake_fez) pulls the mean by
    # 0.009 exactly; shot noise on the mean is ~0.001 at these shots.
    assert np.abs(out[large]).mean() < np.abs(want[large]).mean() - 0.005
    assert np.abs(out - want).mean() < 0.25, "noise too strong: outputs no longer track exact"


def test_aer_and_braket_dm_build_the_same_noise_channels() -> None:
    template = TEMPLATES[0]
    b = batch(template, 5, SHOTS, seed=9)
    aer = make("aer+noise").run_batch(b).result(timeout=120)
    dm = make("braket_dm+noise").run_batch(b).result(timeout=120)
    se = np.sqrt(2) * standard_errors(template, (aer + dm) / 2, SHOTS)
    assert (np.abs(aer - dm) / se).max() < 5
    assert np.abs(aer - exact(b)).mean() > 0.02  # the noise is really there


def test_statevector_without_shots_is_exact_and_differentiable() -> None:
    import torch

    template = TEMPLATES[0]
    b = batch(template, 4, None)
    backend = resolve("statevector")
    np.testing.assert_allclose(backend.run_batch(b).result(), exact(b), atol=1e-12)
    assert backend.capabilities.exact and backend.capabilities.differentiable
    x = torch.tensor(b.inputs, requires_grad=True)
    w = torch.tensor(b.weights[0], requires_grad=True)
    backend.evaluate(template, x, w, None, None).sum().backward()
    assert x.grad is not None and w.grad is not None


@pytest.mark.parametrize("name", ["pennylane:default.qubit", "pennylane:default.mixed"])
def test_exact_backends_without_shots_equal_statevector(name: str) -> None:
    """Exact backends answer a request without shots with the statevector's numbers, and the
    differentiable ones give its autograd gradients through evaluate()."""
    import torch

    backend = make(name)
    assert backend.capabilities.exact and backend.capabilities.differentiable
    for template in TEMPLATES:
        b = batch(template, 4, None, seed=17)
        np.testing.assert_allclose(backend.run_batch(b).result(timeout=120), exact(b),
                                   atol=1e-10)
    template = TEMPLATES[0]
    b = batch(template, 4, None, seed=18)
    grads = []
    for evaluate in (backend.evaluate, resolve("statevector").evaluate):
        x = torch.tensor(b.inputs, requires_grad=True)
        w = torch.tensor(b.weights[0], requires_grad=True)
        evaluate(template, x, w, None, None).sum().backward()
        grads.append((x.grad, w.grad))
    for mine, theirs in zip(*grads, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", ["aer", "fake_brisbane (aer engine)", "ibm_manila (local mode)",
                                  "pennylane:lightning.qubit"])
def test_a_non_differentiable_backend_says_so(name: str) -> None:
    import torch

    backend = make(name)
    assert not backend.capabilities.differentiable
    with pytest.raises(CapabilityError, match="not differentiable"):
        backend.evaluate(TEMPLATES[2], torch.zeros(1, 2), torch.zeros(4), SHOTS, None)


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


def test_rows_beyond_max_circuits_are_refused_when_sent() -> None:
    backend = make("fake_manila")
    half = backend.capabilities.max_circuits_per_job // 2 + 1
    with pytest.raises(CapabilityError, match="circuits per job"):
        backend.run_batches([batch(TEMPLATES[2], half, SHOTS), batch(TEMPLATES[2], half, SHOTS)])


def test_one_shot_count_per_provider_job() -> None:
    with pytest.raises(CapabilityError, match="one shot count per provider job"):
        make("aer").run_batches([batch(TEMPLATES[2], 2, 100), batch(TEMPLATES[2], 2, 200)])


@pytest.mark.parametrize("name", list(ALL))
def test_bad_input_is_refused_before_sending(name: str) -> None:
    backend = make(name)
    b = batch(TEMPLATES[2], 3, SHOTS)
    b.params[1, 2] = np.nan
    with pytest.raises(CapabilityError, match="row 1 contains NaN"):
        backend.run_batch(b)
    for shots in (0, -5, True, 2.5):
        with pytest.raises(CapabilityError):
            backend.run_batch(CircuitBatch(TEMPLATES[2], batch(TEMPLATES[2], 2, None).params,
                                           shots))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(ALL))
def test_batches_of_one_provider_job_are_separate_items(name: str) -> None:
    backend = make(name)
    first = batch(fits(name, TEMPLATES[0]), 3, 500, seed=21)
    second = batch(TEMPLATES[2], 2, 500, seed=22)
    handle = backend.run_batches([first, second])
    assert isinstance(handle, JobHandle)
    for item, b in enumerate((first, second)):
        out = handle.result(item, timeout=120)
        assert out.shape == (b.n_circuits, b.template.n_outputs)
    with pytest.raises(ProviderJobError, match="no item 2"):
        handle.result(2, timeout=120)


@pytest.mark.parametrize("name", list(LOCAL))
def test_a_seeded_batch_reruns_bit_for_bit(name: str) -> None:
    """Local simulators draw a batch's shots from its seed: the same batch alone, beside other
    batches, retrieved, or re-run by a fresh adapter after a restart gives the same numbers."""
    backend = make(name)
    template = fits(name, TEMPLATES[0])
    b = CircuitBatch(template, batch(template, 3, 500, seed=21).params, 500, seed=1234)
    handle = backend.run_batch(b)
    first = handle.result(timeout=120)
    assert handle.status() == "DONE" and handle.phase() is None
    assert backend.capabilities.seeded
    beside = backend.run_batches([batch(TEMPLATES[2], 2, 500), b]).result(1, timeout=120)
    np.testing.assert_array_equal(beside, first)
    np.testing.assert_array_equal(backend.retrieve(handle.provider_job_id, b).result(), first)
    fresh = LOCAL[name]().retrieve(f"restarted-{name}", b, item=3)
    np.testing.assert_array_equal(fresh.result(3, timeout=120), first)
    other_seed = CircuitBatch(template, b.params, 500, seed=99)
    assert not np.array_equal(backend.run_batch(other_seed).result(timeout=120), first)
    with pytest.raises(ProviderJobError, match="no seed"):
        backend.retrieve("not-a-local-job", CircuitBatch(template, b.params, 500))


def test_seed_blocks_make_outputs_independent_of_chunking() -> None:
    """Rows are sampled block by block from (seed, block): running each block on its own (as
    the cluster's fan-out does) equals running the batch at once."""
    backend = make("statevector-shots")
    rows = SEED_BLOCK_ROWS + 300
    b = CircuitBatch(TEMPLATES[2], batch(TEMPLATES[2], rows, 100, seed=2).params, 100, seed=5)
    whole = backend.run_batch(b).result()
    parts = [backend.simulate(b.template, b.params[start:stop], 100, block_seed(5, block))
             for block, (start, stop) in enumerate(seed_blocks(rows))]
    assert len(parts) == 2
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_noise_is_refused_where_it_is_not_supported() -> None:
    for name in ("statevector", "braket_sv", "fake_brisbane", "ibm_fez", "braket:sv1"):
        with pytest.raises(CapabilityError, match="does not take --noise; backends that do: aer"):
            resolve(name, noise="depol1=0.01")
    with pytest.raises(CapabilityError, match="does not take --noise"):
        resolve("pennylane:default.qubit", noise="depol1=0.01")
    with pytest.raises(CapabilityError, match="thermal"):
        resolve("braket_dm", noise="t1=50e-6,t2=70e-6")
    assert resolve("pennylane:default.mixed", noise="t1=50e-6,t2=70e-6").capabilities.supports_noise
    assert resolve("aer", noise="t1=50e-6,t2=70e-6").capabilities.supports_noise


def test_errors_are_one_line() -> None:
    with pytest.raises(BackendError) as info:
        make("braket_dm").validate(CircuitTemplate(14, 1), SHOTS)
    assert "\n" not in str(info.value)
