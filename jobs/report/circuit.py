"""The circuit diagram: the template's gates on one wire per qubit, drawn with matplotlib."""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyBboxPatch, Patch

from qorch.backends.circuits.template import CircuitTemplate, Gate
from qorch.jobs.report.canvas import new_figure, save

# Deep circuits repeat one layer; past this many columns the first ones say it all and the
# picture stays a readable size.
MAX_COLUMNS = 36
STYLE = {  # gate kind: (face, edge, legend)
    "x": ("#d6e9f8", "#0072B2", "input encoding RX/RY/RZ(x_i)"),
    "w": ("#fde9c8", "#C77C00", "trainable rotation (w_j)"),
    "fixed": ("#dcefd9", "#2e7d32", "fixed gate (H)"),
}


def layout(template: CircuitTemplate) -> list[tuple[int, Gate]]:
    """(column, gate) pairs: each gate in the first column where all wires it spans are idle,
    the same packing as CircuitTemplate.draw()."""
    free = [0] * template.n_qubits
    placed = []
    for gate in template.operations():
        low, high = min(gate.wires), max(gate.wires)
        column = max(free[low : high + 1])
        placed.append((column, gate))
        for wire in range(low, high + 1):
            free[wire] = column + 1
    return placed


def _box(ax: Axes, x: float, y: float, gate: Gate) -> None:
    kind = gate.param[0] if gate.param else "fixed"
    face, edge, _ = STYLE[kind]
    ax.add_patch(FancyBboxPatch((x - 0.36, y - 0.28), 0.72, 0.56,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=face, edgecolor=edge, linewidth=1.2, zorder=3))
    label = gate.name.upper() if gate.name != "h" else "H"
    if gate.param:
        label += f"\n{gate.param[0]}{gate.param[1]}"
    ax.text(x, y, label, ha="center", va="center", fontsize=7.5, zorder=4,
            fontfamily="monospace")


def _two_qubit(ax: Axes, x: float, gate: Gate) -> None:
    control, target = gate.wires
    ax.plot([x, x], [-control, -target], color="black", linewidth=1.4, zorder=2)
    ax.add_patch(Circle((x, -control), 0.09, color="black", zorder=3))
    if gate.name == "cz":
        ax.add_patch(Circle((x, -target), 0.09, color="black", zorder=3))
        return
    ax.add_patch(Circle((x, -target), 0.2, facecolor="white", edgecolor="black",
                        linewidth=1.4, zorder=3))
    ax.plot([x - 0.2, x + 0.2], [-target, -target], color="black", linewidth=1.4, zorder=4)
    ax.plot([x, x], [-target - 0.2, -target + 0.2], color="black", linewidth=1.4, zorder=4)


def plot_circuit(template: CircuitTemplate, path: str | Path, *,
                 title: str = "Quantum circuit") -> Path:
    """Every gate of the template (the first MAX_COLUMNS columns of deep ones), coloured by
    role, with the measured observables at the end of the wires."""
    placed = layout(template)
    columns = max(column for column, _ in placed) + 1
    shown = min(columns, MAX_COLUMNS)
    n = template.n_qubits
    figure = new_figure(max(6.0, 0.62 * shown + 2.4), 0.62 * n + 1.6)
    ax = figure.add_subplot()
    for q in range(n):
        ax.plot([-0.7, shown + 0.3], [-q, -q], color="#444444", linewidth=1, zorder=1)
        ax.text(-0.85, -q, f"q{q}: |0⟩", ha="right", va="center", fontsize=9)
        ax.text(shown + 0.45, -q, "⟨Z⟩" if "probs" not in template.observables else "M",
                ha="left", va="center", fontsize=9, fontweight="bold")
    for column, gate in placed:
        if column >= shown:
            continue
        if len(gate.wires) == 2:
            _two_qubit(ax, column, gate)
        else:
            _box(ax, column, -gate.wires[0], gate)
    ax.set_xlim(-2.0, shown + 1.2)
    ax.set_ylim(-n + 0.4, 0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    kinds = {g.param[0] if g.param else "fixed" for _, g in placed if len(g.wires) == 1}
    handles: list[Artist] = [Patch(facecolor=STYLE[k][0], edgecolor=STYLE[k][1], label=STYLE[k][2])
               for k in ("x", "w", "fixed") if k in kinds]
    handles.append(Line2D([], [], color="black", marker="o", markersize=4,
                          label="CNOT / CZ (● control)"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4,
              frameon=False, fontsize=8)
    cut = f" — first {shown} of {columns} columns" if shown < columns else ""
    heading = f"{title}{cut}\n" + "\n".join(textwrap.wrap(template.summary(), 110))
    ax.set_title(heading, fontsize=10)
    return save(figure, path)
