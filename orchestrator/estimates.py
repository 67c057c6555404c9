"""Rough wall-time and QPU-time estimates of a --dry-run plan, and warnings for huge plans."""

from __future__ import annotations

from typing import Any

# Rates measured on one CPU of a development machine (hybrid-lenet, 8 qubits); they scale with
# --cpus and vary with the machine, the width and the backend: an estimate, said to be one.
EXACT_IMAGES_PER_CPU_S = 4000.0  # statevector, autograd: training images per second
LOCAL_CIRCUITS_PER_CPU_S = 1000.0  # fake_brisbane's noisy engine at 1,024 shots
# IBM devices spend about their default repetition delay per shot, plus a few seconds of
# set-up per provider job; queue time comes on top and cannot be known in advance.
IBM_SHOT_S = 250e-6
IBM_JOB_S = 2.0
HUGE = {"circuits": 1_000_000, "shots": 1_000_000_000, "wall_s": 86_400.0, "usd": 100.0}


def estimate(plan: dict[str, Any], kind: str, family: str, cpus: float,
             images: int) -> dict[str, Any]:
    """Wall time on the cluster and QPU time at the provider, with what each rests on."""
    circuits, shots = int(plan.get("circuits", 0)), int(plan.get("shots", 0))
    out: dict[str, Any] = {"wall_s": None, "qpu_s": None}
    if kind == "hardware":
        out["basis"] = "queue waits at the provider are not included"
        if family == "ibm":
            out["qpu_s"] = shots * IBM_SHOT_S + int(plan.get("provider_jobs", 0)) * IBM_JOB_S
            out["basis"] += "; QPU time from IBM's 250 µs per shot and 2 s per job"
        else:
            out["basis"] += "; this device's QPU time per shot is not known offline"
    elif circuits:
        out["wall_s"] = circuits / (LOCAL_CIRCUITS_PER_CPU_S * cpus)
        out["basis"] = (f"{LOCAL_CIRCUITS_PER_CPU_S:,.0f} circuits/s per CPU (measured on a "
                        "local noisy emulator, 8 qubits); a managed simulator bills its run time")
    else:
        out["wall_s"] = images / (EXACT_IMAGES_PER_CPU_S * cpus)
        out["basis"] = f"{EXACT_IMAGES_PER_CPU_S:,.0f} images/s per CPU (exact simulation)"
    return out


def warnings(plan: dict[str, Any]) -> list[str]:
    """What makes a plan huge, in words, with the options that shrink it."""
    found = []
    circuits, shots = int(plan.get("circuits", 0)), int(plan.get("shots", 0))
    if circuits >= HUGE["circuits"]:
        found.append(f"{compact(circuits)} circuits")
    if shots >= HUGE["shots"]:
        found.append(f"{compact(shots)} shots")
    for key, what in (("wall_s", "wall time"), ("qpu_s", "QPU time")):
        seconds = (plan.get("estimate") or {}).get(key)
        if seconds is not None and seconds >= HUGE["wall_s"]:
            found.append(f"about {seconds / 86400:,.1f} days of {what}")
    usd = (plan.get("estimated_cost") or {}).get("usd")
    if usd is not None and usd >= HUGE["usd"]:
        found.append(f"about ${usd:,.0f} at list prices")
    if not found:
        return []
    return [f"a huge plan: {', '.join(found)}; --train-size, --test-size, --epochs, "
            "--qubits, --shots or --gradient spsa shrink it"]


def compact(count: float) -> str:
    """14.6 M, 15.0 G, 5,184."""
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
        if count >= factor:
            return f"{count / factor:.1f} {suffix}"
    return f"{count:,.0f}"
