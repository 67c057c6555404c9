"""The wheel installs one `qorch` namespace and nothing generic at the top level."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.conftest import REPO


def test_wheel_installs_only_the_qorch_namespace(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    leftover = not (REPO / "build").exists()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(REPO)], check=True, capture_output=True)
    if leftover:  # setuptools builds inside the checkout; leave it as it was
        shutil.rmtree(REPO / "build", ignore_errors=True)
    (wheel,) = wheels.glob("qorch-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    target = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                             "['purelib'])"], capture_output=True, text=True, check=True)
    site = Path(target.stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    tops = sorted(p.name for p in site.iterdir() if not p.name.endswith(".dist-info"))
    assert tops == ["bin", "qorch"] or tops == ["qorch"], tops
    # Dependencies come from the test environment; qorch only from the fresh venv.
    deps = sysconfig.get_paths()["purelib"]
    env = {"PYTHONPATH": deps, "PATH": "/usr/bin:/bin"}
    code = ("import qorch, qorch.cli.app, qorch.orchestrator.store.models, "
            "qorch.backends.registry\n"
            "from qorch import Client\n"
            f"assert qorch.__file__.startswith({str(site)!r}), qorch.__file__\n"
            "from qorch.orchestrator.store.migrate import head_revision\n"
            "print(head_revision())")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("00")
    for generic in ("cli", "jobs", "backends", "orchestrator", "migrations"):
        refused = subprocess.run([python, "-c", f"import {generic}"], capture_output=True,
                                 text=True, cwd=tmp_path, env=env)
        assert refused.returncode != 0 and "ModuleNotFoundError" in refused.stderr, generic
