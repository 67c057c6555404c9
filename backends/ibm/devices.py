"""IBM devices: fake names, retired devices, transpiling, used-qubit reduction, calibration."""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import Any, NamedTuple

from qorch.backends.circuits.template import CircuitTemplate
from qorch.backends.errors import DeviceUnavailableError

# Retired IBM Quantum devices whose retirement IBM announced publicly (list as of 2026-01; kept
# to the ones we are sure of). Only used for a better message before any network call; for any
# other name the service's own backend list is the authority. Their calibrations live on as
# fake_<name> where the fake provider has one.
RETIRED_IBM = frozenset(
    {
        "ibm_brisbane", "ibm_sherbrooke", "ibm_kyiv", "ibm_kyoto", "ibm_osaka", "ibm_cusco",
        "ibm_nazca", "ibm_brussels", "ibm_strasbourg", "ibm_washington", "ibm_algiers",
        "ibm_cairo", "ibm_hanoi", "ibm_kolkata", "ibm_mumbai", "ibm_auckland", "ibm_geneva",
        "ibm_lagos", "ibm_nairobi", "ibm_perth", "ibm_oslo", "ibmq_montreal", "ibmq_toronto",
        "ibmq_guadalupe", "ibmq_jakarta", "ibmq_manila", "ibmq_lima", "ibmq_belem",
        "ibmq_quito", "ibmq_mumbai", "ibmq_kolkata",
    }
)  # fmt: skip
# Devices believed current on that date; shown as suggestions only.
CURRENT_IBM_HINT = ("ibm_fez", "ibm_marrakesh", "ibm_kingston", "ibm_torino", "ibm_aachen")
TRANSPILE_SEED = 1234  # fixed, so one template always gets the same layout and ISA circuit
OPTIMIZATION_LEVEL = 2


def _snake(class_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name.removesuffix("V2")).lower()


@lru_cache(maxsize=1)
def fake_device_classes() -> dict[str, type]:
    """{fake_<device>: class} for every fake backend qiskit-ibm-runtime ships (name: snake case
    of the class name without "V2"; the device's own backend_name is accepted as an alias)."""
    import inspect

    import qiskit_ibm_runtime.fake_provider as provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    found: dict[str, type] = {}
    for name, cls in sorted(vars(provider).items()):
        if inspect.isclass(cls) and issubclass(cls, FakeBackendV2) and cls is not FakeBackendV2:
            found[_snake(name)] = cls
            found.setdefault(str(getattr(cls, "backend_name", _snake(name))), cls)
    return found


def canonical_fake_names() -> list[str]:
    return sorted({_snake(cls.__name__) for cls in fake_device_classes().values()})


@lru_cache(maxsize=16)
def fake_device(name: str) -> Any:
    """One shared instance per fake device (loading a 127-qubit snapshot costs ~0.2 s)."""
    classes = fake_device_classes()
    if name not in classes:
        raise DeviceUnavailableError(
            f"unknown fake device {name!r}; accepted: {', '.join(canonical_fake_names())}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. "not typical error values"
        return classes[name]()


def known_device(name: str) -> bool:
    """Whether qorch knows an IBM device name offline (current, or with a fake snapshot)."""
    twin = "fake_" + name.removeprefix("ibmq_").removeprefix("ibm_")
    return name in CURRENT_IBM_HINT or twin in fake_device_classes()


def retired_message(name: str) -> str:
    device = name.removeprefix("ibmq_").removeprefix("ibm_")
    fake = f"fake_{device}"
    twin = f"its calibration lives on as {fake}; " if fake in fake_device_classes() else ""
    return f"{name} is retired by IBM; {twin}current devices include {', '.join(CURRENT_IBM_HINT)}"


def transpile_template(template: CircuitTemplate, device: Any) -> Any:
    """The measured template transpiled to the device's ISA (basis gates, layout, routing)."""
    from qiskit.transpiler import generate_preset_pass_manager

    from qorch.backends.qiskit.compile import to_qiskit

    circuit, _, _ = to_qiskit(template, measure=True)
    manager = generate_preset_pass_manager(
        optimization_level=OPTIMIZATION_LEVEL, backend=device, seed_transpiler=TRANSPILE_SEED
    )
    return manager.run(circuit)


class Reduced(NamedTuple):
    """The ISA circuit restricted to the physical qubits it touches, renumbered 0..k-1."""

    circuit: Any
    physical: tuple[int, ...]  # local index i is physical qubit physical[i]
    layout: tuple[int, ...]  # template qubit i sits on physical qubit layout[i] at the start
    pairs: tuple[tuple[str, int, int], ...]  # two-qubit gates used: (name, physical a, physical b)


def reduce_to_used_qubits(isa: Any) -> Reduced:
    from qiskit.circuit import QuantumCircuit

    index = {q: i for i, q in enumerate(isa.qubits)}
    used = sorted(
        {index[q] for inst in isa.data if inst.operation.name not in ("barrier", "delay")
         for q in inst.qubits}
    )  # fmt: skip
    local = {phys: i for i, phys in enumerate(used)}
    small = QuantumCircuit(len(used), isa.num_clbits, name=isa.name)
    pairs: set[tuple[str, int, int]] = set()
    for inst in isa.data:
        name = inst.operation.name
        if name in ("barrier", "delay"):
            continue  # idle time is not simulated; the runtime's local estimator skips it too
        phys = [index[q] for q in inst.qubits]
        if len(phys) == 2:
            pairs.add((name, phys[0], phys[1]))
        small.append(
            inst.operation, [local[p] for p in phys], [isa.clbits.index(c) for c in inst.clbits]
        )
    layout = tuple(isa.layout.initial_index_layout(filter_ancillas=True)) if isa.layout else ()
    return Reduced(small, tuple(used), layout, tuple(sorted(pairs)))


def reduced_noise_model(device: Any, physical: tuple[int, ...]) -> Any:
    """The device's calibration noise (gate depolarizing + thermal relaxation, readout) on just
    the used qubits, renumbered like the reduced circuit; same construction as the fake
    backend's own model, at a fraction of the cost for a 127-qubit device."""
    from qiskit_aer.noise import NoiseModel
    from qiskit_aer.noise.device.models import basic_device_gate_errors, basic_device_readout_errors
    from qiskit_ibm_runtime.models import BackendProperties

    props = device.properties().to_dict()
    local = {p: i for i, p in enumerate(physical)}
    props["qubits"] = [props["qubits"][p] for p in physical]
    props["gates"] = [
        {**g, "qubits": [local[q] for q in g["qubits"]]}
        for g in props["gates"]
        if all(q in local for q in g["qubits"])
    ]
    props["general"] = []
    small = BackendProperties.from_dict(props)
    model = NoiseModel(basis_gates=device.configuration().basis_gates)
    for qubits, error in basic_device_readout_errors(small):
        model.add_readout_error(error, qubits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gate_errors = basic_device_gate_errors(small, gate_error=True, thermal_relaxation=True)
    for name, qubits, error in gate_errors:
        model.add_quantum_error(error, name, qubits)
    return model


def _instruction_error(target: Any, name: str, qargs: tuple[int, ...]) -> float | None:
    try:
        props = target[name][qargs]
    except KeyError:
        return None
    return None if props is None or props.error is None else float(props.error)


def calibration_report(device: Any, template: CircuitTemplate, isa: Any, red: Reduced) -> dict:
    """What the job record keeps about the device: snapshot date, layout, used qubits' errors."""
    target = device.target
    try:
        props = device.properties()
        updated = props.last_update_date if props is not None else None
    except Exception:  # real backends without properties (e.g. some simulators)
        updated = None
    one_q = [g for g in ("sx", "x") if g in target.operation_names]
    qubits = []
    for q in red.physical:
        qp = target.qubit_properties[q] if target.qubit_properties else None
        qubits.append(
            {
                "physical": q,
                "t1_s": getattr(qp, "t1", None),
                "t2_s": getattr(qp, "t2", None),
                "readout_error": _instruction_error(target, "measure", (q,)),
                **{f"{g}_error": _instruction_error(target, g, (q,)) for g in one_q},
            }
        )
    return {
        "device": device.name,
        "calibration_date": updated.isoformat() if updated is not None else None,
        "num_device_qubits": int(device.num_qubits),
        "basis_gates": sorted(target.operation_names),
        "template_hash": template.hash,
        "layout": list(red.layout),
        "used_qubits": list(red.physical),
        "transpiled_depth": int(isa.depth()),
        "transpiled_ops": {k: int(v) for k, v in isa.count_ops().items()},
        "qubits": qubits,
        "two_qubit_gates": [
            {"gate": g, "qubits": [a, b], "error": _instruction_error(target, g, (a, b))}
            for g, a, b in red.pairs
        ],
    }
