"""Help metavars and shell completion of the CLI's options: accepted values, not Python types."""

from __future__ import annotations

import functools
import pathlib
from typing import Any

from typer import _click as click  # typer's own copy of click: its commands' types
from typer.core import TyperArgument, TyperOption

# What an option's value looks like, where its name does not say it and it has no choices.
SHAPES = {
    "backend": "NAME", "backends": "NAME[:NOISE],...", "noise": "SPEC", "source": "JOB",
    "reference": "NAME", "ray_address": "HOST:PORT", "resources": "NAME=AMOUNT,...",
    "classes": "a,b,...", "older_than": "AGE", "finished": "STATE", "tail": "N",
    "timeout": "SECONDS",
}
WIDE = 24  # longest choice list shown as the metavar itself
BY_TYPE = {int: "N", float: "NUMBER", str: "TEXT", pathlib.Path: "DIR"}


@functools.cache
def choices() -> dict[str, tuple[str, ...]]:
    """Accepted values by parameter name, from the layers that check them (read on demand:
    help and completion only)."""
    from qorch.backends.circuits.template import ENCODINGS, ENTANGLERS, OBSERVABLES, ROTATIONS
    from qorch.backends.family import ENGINES
    from qorch.backends.noisy.mitigation import MITIGATIONS
    from qorch.jobs.data.datasets import DATASETS
    from qorch.jobs.models.defaults import HEADS, MODEL_NAMES
    from qorch.jobs.recipes import RECIPES
    from qorch.jobs.spec import GRADIENTS, SCHEDULES, TRUNKS, WEIGHT_INITS
    from qorch.orchestrator.store.states import JobState

    return {
        "dataset": tuple(DATASETS), "model": MODEL_NAMES, "gradient": GRADIENTS,
        "schedule": SCHEDULES, "trunk": TRUNKS, "init": WEIGHT_INITS, "engine": ENGINES,
        "mitigate": MITIGATIONS, "encoding": ENCODINGS, "rotations": tuple(ROTATIONS),
        "entangler": ENTANGLERS, "observables": OBSERVABLES, "recipe": tuple(RECIPES),
        "final_rotations": tuple(ROTATIONS), "head": HEADS,
        "state": tuple(s.value.lower() for s in JobState),
    }


def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion of a choice option (comma lists complete their last word)."""
    head, _, last = incomplete.rpartition(",")
    prefix = head + "," if head else ""
    return [prefix + c for c in choices().get(param.name or "", ()) if c.startswith(last)]


def metavar(param: click.Parameter) -> str:
    """`mnist|fashion-mnist`, `N`, `HOST:PORT`; empty for flags (they take no value)."""
    if getattr(param, "is_flag", False):
        return ""
    name = param.name or ""
    accepted = choices().get(name)
    if accepted:
        joined = "|".join(accepted)
        if len(joined) > WIDE:  # a long list wraps mid-word in the metavar column
            return name.upper().replace("_", "-")
        return f"{joined},..." if name == "observables" else joined
    if name in SHAPES:
        return SHAPES[name]
    annotation: Any = getattr(getattr(param, "type_descriptor", None), "annotation", str)
    return BY_TYPE.get(annotation, "TEXT")


class _Argument(TyperArgument):
    """An argument shown by its metavar alone (no `<str>` beside it)."""

    def display_type_rich(self, ctx: click.Context) -> str | None:
        return None


def tidy(command: click.Command, ctx: click.Context) -> None:
    """Readable metavars, accepted values in the help, the help one paragraph."""
    command.help = " ".join((command.help or "").split()) or None
    for param in command.get_params(ctx):
        if isinstance(param, TyperArgument) and not isinstance(param, _Argument):
            param.__class__ = _Argument
        if not isinstance(param, TyperOption) or param.metavar is not None:
            continue
        param.metavar = metavar(param)
        accepted = choices().get(param.name or "", ())
        shown = "|" in param.metavar or all(value in (param.help or "") for value in accepted)
        if accepted and not shown:
            param.help = f"{param.help or ''} One of: {', '.join(accepted)}.".strip()


def attach_completion(command: click.Command) -> None:
    """Choice options complete their accepted values (names only: nothing heavy imported)."""
    for param in command.params:
        if isinstance(param, TyperOption) and param.name in CHOICE_NAMES:
            param._custom_shell_complete = complete


CHOICE_NAMES = frozenset({"dataset", "model", "gradient", "schedule", "trunk", "init", "engine",
                          "mitigate", "encoding", "rotations", "entangler", "observables",
                          "state", "recipe", "final_rotations", "head"})


def usage_pieces(command: click.Command, ctx: click.Context) -> list[str]:
    """`[OPTIONS] JOB`: arguments by their metavar, required ones bare, optional in brackets."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if isinstance(param, TyperArgument):
            name = param.metavar or (param.name or "").upper()
            if param.metavar is None:
                name = name if param.required else f"[{name}]"
                name += "..." if param.nargs != 1 else ""
            pieces.append(name)
    return pieces
