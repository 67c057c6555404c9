"""Amazon Braket device names, ARNs and list prices (for name resolution and dry-run costs)."""

from __future__ import annotations

import re
from typing import Any

# Public list prices from https://aws.amazon.com/braket/pricing/ as read on PRICES_AS_OF (USD,
# before taxes, free tier and credits). They change: re-check the page before trusting a bill.
PRICES_AS_OF = "2025-06-01"
PRICES_SOURCE = "https://aws.amazon.com/braket/pricing/"
QPU_TASK_FEE_USD = 0.30
QPU_SHOT_USD = {"ionq": 0.08, "iqm/garnet": 0.00145, "iqm/emerald": 0.0016, "rigetti": 0.0009}
SIMULATOR_MINUTE_USD = {"sv1": 0.075, "dm1": 0.075, "tn1": 0.275}
SIMULATOR_MIN_BILLED_S = 3.0

# Short names accepted as braket:<name> (also provider/name); any device ARN is accepted too.
DEVICE_ARNS = {
    "sv1": "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
    "dm1": "arn:aws:braket:::device/quantum-simulator/amazon/dm1",
    "tn1": "arn:aws:braket:::device/quantum-simulator/amazon/tn1",
    "forte-1": "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1",
    "forte-enterprise-1": "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-1",
    "garnet": "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet",
    "emerald": "arn:aws:braket:eu-north-1::device/qpu/iqm/Emerald",
    "ankaa-3": "arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3",
}
# Widths used before the device's own properties are fetched (refined from them afterwards).
STATIC_QUBITS = {"sv1": 34, "dm1": 17, "tn1": 50, "forte-1": 36, "forte-enterprise-1": 36,
                 "garnet": 20, "emerald": 54, "ankaa-3": 84}  # fmt: skip
ARN_PATTERN = re.compile(
    r"^arn:aws:braket:([a-z0-9-]*)::device/(qpu|quantum-simulator)/([^/]+)/([^/]+)$"
)


def resolve_arn(name: str) -> str:
    """braket:<short name>, braket:<provider>/<name>, braket:<ARN> or an ARN -> the device ARN."""
    from qorch.backends.errors import DeviceUnavailableError

    key = name.removeprefix("braket:").strip()
    if ARN_PATTERN.match(key):
        return key
    short = key.lower().rsplit("/", 1)[-1]
    if short in DEVICE_ARNS:
        return DEVICE_ARNS[short]
    raise DeviceUnavailableError(
        f"unknown Braket device {name!r}; accepted: braket:<{'|'.join(DEVICE_ARNS)}> or a device "
        "ARN like arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
    )


def arn_parts(arn: str) -> tuple[str | None, bool, str, str]:
    """(region or None, is_simulator, provider, device) from a device ARN."""
    match = ARN_PATTERN.match(arn)
    if not match:
        from qorch.backends.errors import DeviceUnavailableError

        raise DeviceUnavailableError(f"{arn!r} is not a Braket device ARN")
    region, kind, provider, device = match.groups()
    return (region or None, kind == "quantum-simulator", provider.lower(), device.lower())


def prices(arn: str) -> dict[str, Any]:
    """The list prices that apply to a device, with their date and source."""
    _, simulator, provider, device = arn_parts(arn)
    info: dict[str, Any] = {"as_of": PRICES_AS_OF, "source": PRICES_SOURCE}
    if simulator:
        info["per_minute_usd"] = SIMULATOR_MINUTE_USD.get(device)
        info["min_billed_seconds_per_task"] = SIMULATOR_MIN_BILLED_S
    else:
        info["per_task_usd"] = QPU_TASK_FEE_USD
        info["per_shot_usd"] = QPU_SHOT_USD.get(f"{provider}/{device}", QPU_SHOT_USD.get(provider))
    return info


def estimate_cost(arn: str, n_tasks: int, shots_per_task: int) -> dict[str, Any]:
    """Dry-run estimate in USD. QPUs: tasks x fee + shots x per-shot price. Managed simulators
    bill run time, unknown before running; the estimate is the 3 s per-task minimum (a floor).
    A program set is assumed to be billed as one task carrying all of its shots."""
    info = prices(arn)
    if "per_minute_usd" in info:
        rate = info["per_minute_usd"]
        usd = None if rate is None else n_tasks * SIMULATOR_MIN_BILLED_S / 60 * rate
        info.update(usd=usd, kind="lower bound (simulators bill run time)")
    else:
        shot = info["per_shot_usd"]
        usd = None if shot is None else n_tasks * QPU_TASK_FEE_USD + n_tasks * shots_per_task * shot
        info.update(usd=usd, kind="list price")
    info.update(tasks=n_tasks, shots_per_task=shots_per_task)
    return info
