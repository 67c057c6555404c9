"""The one reader of the environment: home folder, store, cluster, data, credentials, timeouts."""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from qorch.backends.credentials import Credentials
from qorch.jobs.data.datasets import DataSource
from qorch.orchestrator.errors import SettingsError

DEFAULT_HOME = Path("~/.qorch")
IBM_SAVED_ACCOUNT = Path("~/.qiskit/qiskit-ibm.json")
AWS_CREDENTIALS_FILE = Path("~/.aws/credentials")


@dataclass(frozen=True)
class Settings:
    """Everything qorch reads from the environment, read once (`Settings.from_env`)."""

    home: Path
    database_url: str
    owner: str = "unknown"
    ray_address: str | None = None
    data_dir: Path | None = None
    dataset_mirrors: tuple[str, ...] = ()
    heartbeat_timeout_s: float = 120.0
    idle_shutdown_s: float = 600.0
    gateway_window_s: float = 0.05
    gateway_idle_s: float = 600.0
    store_retry_s: float = 300.0
    credentials: Credentials = field(default_factory=Credentials)

    @property
    def ray_temp_dir(self) -> Path:
        return self.home / "ray"

    @property
    def dataset_cache(self) -> Path:
        return self.home / "datasets"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def checkpoint_dir(self) -> Path:
        return self.home / "checkpoints"

    def data_source(self) -> DataSource:
        return DataSource(self.data_dir, self.dataset_cache, self.dataset_mirrors)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Resolve settings from the environment; creates QORCH_HOME (0700) if needed."""
        env = os.environ if env is None else env
        home = Path(env.get("QORCH_HOME") or DEFAULT_HOME).expanduser()
        prepare_home(home)
        data_dir = env.get("QORCH_DATA_DIR") or remembered(home).get("data_dir")
        return cls(
            home=home,
            database_url=env.get("QORCH_DATABASE_URL") or f"sqlite:///{home / 'qorch.db'}",
            owner=os_user(),
            ray_address=env.get("RAY_ADDRESS") or None,
            data_dir=Path(data_dir).expanduser().resolve() if data_dir else None,
            dataset_mirrors=tuple(m for m in env.get("QORCH_DATASET_MIRROR", "").split(",") if m),
            heartbeat_timeout_s=_seconds(env, "QORCH_HEARTBEAT_TIMEOUT", 120.0),
            idle_shutdown_s=_seconds(env, "QORCH_IDLE_SHUTDOWN", 600.0),
            gateway_window_s=_seconds(env, "QORCH_GATEWAY_WINDOW", 0.05, low=0.0),
            gateway_idle_s=_seconds(env, "QORCH_GATEWAY_IDLE", 600.0),
            store_retry_s=_seconds(env, "QORCH_STORE_RETRY", 300.0, low=0.0),
            credentials=_credentials(env),
        )


def os_user() -> str:
    """The login of this process's user id (not $USER, which anyone can set)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid{os.getuid()}"


def _seconds(env: Mapping[str, str], name: str, default: float, low: float = 1.0) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= 7 * 24 * 3600:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds in {low:g}..604800")
    return value


def _credentials(env: Mapping[str, str]) -> Credentials:
    aws_file = Path(env.get("AWS_SHARED_CREDENTIALS_FILE") or AWS_CREDENTIALS_FILE).expanduser()
    aws_present = bool(
        (env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"))
        or env.get("AWS_PROFILE")
        or (aws_file.is_file() and aws_file.stat().st_size > 0)
    )
    return Credentials(
        ibm_token=env.get("QISKIT_IBM_TOKEN") or None,
        ibm_instance=env.get("QISKIT_IBM_INSTANCE") or None,
        ibm_channel=env.get("QISKIT_IBM_CHANNEL") or None,
        ibm_saved_account=IBM_SAVED_ACCOUNT.expanduser().is_file(),
        aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
        aws_present=aws_present,
    )


def remembered(home: Path) -> dict[str, str]:
    """What this home remembers between commands (config.json): the data folder in use."""
    try:
        data = json.loads((home / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def remember(home: Path, key: str, value: str) -> None:
    """Keep a setting for later commands of this home (0600, replaced atomically)."""
    data = {**remembered(home), key: value}
    partial = home / "config.json.partial"
    descriptor = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle)
    partial.replace(home / "config.json")


def prepare_home(home: Path) -> None:
    """Create QORCH_HOME private to its owner (0700) and check that it is a writable folder."""
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not home.is_dir():
            raise NotADirectoryError(20, "not a folder")
        if not os.access(home, os.W_OK | os.X_OK):
            raise PermissionError(13, "permission denied")
    except OSError as err:
        raise SettingsError(
            f"QORCH_HOME {str(home)!r} is not a writable folder ({err.strerror or err}); "
            "set QORCH_HOME to a folder you can write to"
        ) from err
