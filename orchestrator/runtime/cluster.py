"""Starts the embedded local Ray (loopback only, token auth, no dashboard) or joins a cluster."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

from qorch.orchestrator.errors import ClusterError
from qorch.orchestrator.settings import Settings

# Ray puts unix sockets under its temp dir; their paths must stay under 108 bytes.
MAX_TEMP_DIR_CHARS = 48


def ray_temp_dir(settings: Settings) -> Path:
    preferred = settings.ray_temp_dir
    if len(str(preferred)) <= MAX_TEMP_DIR_CHARS:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:10]
    return Path("/tmp") / f"qorch-ray-{os.getuid()}-{digest}"


def _prepare_local_auth(settings: Settings) -> None:
    """Ray ≥ 2.59 enables token auth for local clusters; keep the token under QORCH_HOME."""
    token_file = settings.home / "ray_auth_token"
    if not token_file.exists():
        token_file.write_text(secrets.token_hex(32))
        token_file.chmod(0o600)
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    os.environ.setdefault("RAY_AUTH_TOKEN_PATH", str(token_file))


def connect(settings: Settings, address: str | None, cpus: int | None = None) -> str:
    """Initialise Ray in this process once; returns a description of the cluster joined."""
    address = address or settings.ray_address
    if not address:
        # Before `import ray`: Ray reads these once, when it loads.
        # Ray treats this switch as "single-machine": every server binds to 127.0.0.1.
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # an embedded Ray phones no one
        # Ray runs workers at niceness 15; the job *is* the workload, and a niced driver
        # starves (20 s/step seen) as soon as anything else uses the CPU.
        os.environ.setdefault("RAY_worker_niceness", "0")
        _prepare_local_auth(settings)
    import ray

    if ray.is_initialized():
        return "ray (already connected)"
    try:
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
            return f"ray cluster at {address}"
        temp_dir = ray_temp_dir(settings)
        temp_dir.mkdir(parents=True, exist_ok=True)
        ray.init(
            address="local",
            include_dashboard=False,
            num_cpus=max(os.cpu_count() or 1, cpus or 1),
            _temp_dir=str(temp_dir),
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
        return "embedded local ray"
    except (ConnectionError, RuntimeError, ValueError, OSError) as err:
        target = address or "embedded local ray"
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ClusterError(
            f"cannot start or reach Ray ({target}): {first_line}; check --ray-address / "
            "RAY_ADDRESS, and RAY_AUTH_TOKEN for a cluster with token auth"
        ) from err


def cluster_cpus() -> float:
    import ray

    return float(ray.cluster_resources().get("CPU", 0))
