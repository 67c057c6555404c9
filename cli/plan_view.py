"""A --dry-run plan for people: what would run, how much, how long, what it costs, warnings."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from qorch.cli.render import console
from qorch.cli.tables import plural, span
from qorch.orchestrator.estimates import compact


def print_plan(plan: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(plan, indent=2))
        return
    console.print(f"[bold]plan[/bold] (no job created): {plan['kind']} {plan['model']} on "
                  f"{plan['backend']}", highlight=False)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows(plan):
        table.add_row(key, value)
    console.print(table)
    for warning in plan.get("warnings", []):
        console.print(f"[bold]warning:[/bold] {warning}", highlight=False)


def settings_text(settings: dict[str, Any]) -> str:
    """The model's settings with its defaults filled in, on one line."""
    parts = [f"recipe {settings['recipe']}"] if settings.get("recipe") else []
    parts.append(f"{settings['dataset']}")
    parts += [f"{name.replace('_', ' ')} {settings[name]}"
              for name in ("epochs", "batch_size", "lr") if name in settings]
    if "qubits" in settings:
        parts.append(f"{plural(settings['qubits'], 'qubit')} × "
                     f"{plural(settings['layers'], 'layer')}")
        circuit = [settings[k] for k in ("encoding", "rotations", "entangler", "final_rotations")
                   if settings.get(k)]
        parts.append("/".join(circuit) + " → " + "+".join(settings.get("observables") or []))
    parts += [f"{name} {settings[name]}" for name in ("trunk", "head") if settings.get(name)]
    return ", ".join(parts)


def rows(plan: dict[str, Any]) -> list[tuple[str, str]]:
    out = [("data", f"{plural(plan['train_examples'], 'training image')}, "
                    f"{plural(plan['test_examples'], 'test image')}")]
    if plan.get("settings"):
        out.append(("settings", settings_text(plan["settings"])))
    if "steps" in plan:
        how = plan.get("gradient") or "classical"
        if "rows_per_sample" in plan:
            how += f", {plural(plan['rows_per_sample'], 'circuit')} per image"
        out.append(("steps", f"{plan['steps']:,} ({how})"))
    circuits = int(plan.get("circuits", 0))
    if circuits:
        per = plan.get("shots_per_circuit")
        shots = f"{per:,} shots each: {compact(plan['shots'])} shots" if per else "exact"
        out.append(("circuits", f"{compact(circuits)} ({shots})"))
        limit = plan.get("max_circuits_per_job")
        out.append(("provider jobs", f"{plan['provider_jobs']:,}"
                    + (f" (at most {limit:,} circuits each)" if limit else "")))
    else:
        out.append(("circuits", "none sent: simulated in the job's own process"))
    cost = plan.get("estimated_cost") or {}
    usd = cost.get("usd")
    price = "unknown" if usd is None else ("none" if usd == 0 else f"${usd:,.2f}")
    out.append(("cost", f"{price} ({cost.get('kind', 'no estimate')})"))
    estimate = plan.get("estimate") or {}
    wall, qpu = estimate.get("wall_s"), estimate.get("qpu_s")
    out.append(("wall time", "unknown" if wall is None else f"about {span(wall)}"))
    if qpu is not None:
        out.append(("QPU time", f"about {span(qpu)}"))
    if estimate.get("basis"):
        out.append(("estimated", estimate["basis"]))
    if plan.get("not_known_offline"):
        out.append(("not known", plan["not_known_offline"]))
    return out
