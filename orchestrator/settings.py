"""Settings read from the environment: home folder, database URL, Ray address, data folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from qorch.orchestrator.errors import SettingsError

DEFAULT_HOME = Path("~/.qorch")


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    ray_address: str | None
    data_dir: Path | None

    @property
    def ray_temp_dir(self) -> Path:
        return self.home / "ray"

    @property
    def dataset_cache(self) -> Path:
        return self.home / "datasets"

    @property
    def uses_default_sqlite(self) -> bool:
        return "QORCH_DATABASE_URL" not in os.environ


def load_settings() -> Settings:
    """Resolve settings from the environment; creates QORCH_HOME and checks it is writable."""
    home = Path(os.environ.get("QORCH_HOME") or DEFAULT_HOME).expanduser()
    _ensure_writable(home)
    url = os.environ.get("QORCH_DATABASE_URL") or f"sqlite:///{home / 'qorch.db'}"
    data_dir = os.environ.get("QORCH_DATA_DIR")
    return Settings(
        home=home,
        database_url=url,
        ray_address=os.environ.get("RAY_ADDRESS") or None,
        data_dir=Path(data_dir).expanduser() if data_dir else None,
    )


def _ensure_writable(home: Path) -> None:
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        raise SettingsError(
            f"QORCH_HOME {str(home)!r} is not a writable folder ({err.strerror or err}); "
            "set QORCH_HOME to a folder you can write to"
        ) from err
