"""`qorch backends` for people: grouped, the fake devices summarised, 80 columns."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from qorch.cli.render import console
from qorch.cli.tables import plural

ORDER = ("simulators", "emulators", "IBM Quantum", "Amazon Braket", "PennyLane")
EXAMPLES = ("fake_brisbane", "fake_fez", "fake_torino", "fake_manila")


def backends_view(rows: list[dict[str, Any]], show_all: bool) -> None:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    for name in sorted(groups, key=lambda g: ORDER.index(g) if g in ORDER else len(ORDER)):
        members = groups[name]
        console.print(f"\n[bold]{name}[/bold]", highlight=False)
        if name == "emulators" and not show_all:
            _fake_summary(members)
            continue
        active = [r for r in members if not r["retired"]]
        if active:
            _table(active)
        retired = [r["name"] for r in members if r["retired"]]
        if retired:
            console.print(f"retired ({len(retired)}; their calibration lives on as "
                          f"fake_<device>): {', '.join(retired)}", highlight=False)
    console.print("\n--backend NAME picks one; `qorch backends --json` for programs.",
                  highlight=False)


def _table(rows: list[dict[str, Any]]) -> None:
    table = Table(box=None, pad_edge=False, header_style="bold", show_header=False)
    table.add_column("name", no_wrap=True)
    table.add_column("qubits", justify="right", no_wrap=True)
    table.add_column("about", overflow="fold")
    for row in rows:
        table.add_row(row["name"], "" if row["qubits"] is None else str(row["qubits"]),
                      _about(row))
    console.print(table)


def _about(row: dict[str, Any]) -> str:
    note = str(row.get("note") or "")
    if note.startswith("arn:"):  # the device's maker and model read better than its ARN
        note = note.rsplit("device/", 1)[-1]
    parts = [note] if note else []
    if row["noise"] not in ("none", "real", None):
        parts.append(f"noise: {row['noise']}")
    if row["credentials"] is False:
        parts.append("no credentials here")
    return "; ".join(parts)


def _fake_summary(rows: list[dict[str, Any]]) -> None:
    qubits = sorted(int(r["qubits"]) for r in rows if r["qubits"] is not None)
    by_name = {r["name"]: r for r in rows}
    shown = ", ".join(f"{n} ({by_name[n]['qubits']})" for n in EXAMPLES if n in by_name)
    span = f", {qubits[0]}-{qubits[-1]} qubits" if qubits else ""
    console.print(f"{plural(len(rows), 'fake device')}{span}: IBM calibration snapshots "
                  f"emulated with their noise, e.g. {shown}. `qorch backends --all` lists "
                  "them.", highlight=False)
