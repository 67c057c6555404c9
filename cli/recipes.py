"""`qorch recipes`: the source projects' models by name, with what their authors reported."""

from __future__ import annotations

import json
import shutil
import textwrap

from qorch.cli.common import JsonFlag


def recipes(as_json: JsonFlag = False) -> None:
    """List the recipes `qorch submit train --recipe NAME` applies (options given override)."""
    from qorch.jobs.recipes import RECIPES

    if as_json:
        print(json.dumps([
            {"name": r.name, "title": r.title, "source": r.source, "reported": r.reported,
             "fields": {k: list(v) if isinstance(v, tuple) else v for k, v in r.fields.items()}}
            for r in RECIPES.values()], indent=2))
        return
    width = min(shutil.get_terminal_size().columns, 100)
    for r in RECIPES.values():
        reported = f"; its authors report {r.reported}" if r.reported else ""
        print(f"{r.name:<14} {r.fields['model']} on {r.fields['dataset']}{reported}")
        print(textwrap.fill(f"{r.title}. From: {r.source}.", width, initial_indent="  ",
                            subsequent_indent="  "))
