"""One Ray cluster per QORCH_HOME: started in the background on first use, joined afterwards,
shut down by `qorch cluster down` or after a while without jobs. `--ray-address` joins any other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qorch.orchestrator.errors import ClusterError
from qorch.orchestrator.settings import Settings

NAMESPACE = "qorch"
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 3.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterInfo:
    """What cluster.json records about the cluster this QORCH_HOME started."""

    address: str
    head_pid: int
    temp_dir: str
    started_at: float


def cluster_file(settings: Settings) -> Path:
    return settings.home / "cluster.json"


def token_file(settings: Settings) -> Path:
    return settings.home / "ray_auth_token"


def ray_temp_dir(settings: Settings) -> Path:
    """Ray puts unix sockets under its temp dir; their paths must stay under 108 bytes."""
    preferred = settings.ray_temp_dir
    if len(str(preferred)) <= 48:
        return preferred
    import hashlib

    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:10]
    return Path("/tmp") / f"qorch-ray-{os.getuid()}-{digest}"


def local_ray_environment(settings: Settings) -> dict[str, str]:
    """What a Ray process of the local cluster needs in its environment (read by Ray when it
    loads): every server on 127.0.0.1, token auth with our token, no usage stats, normal
    worker priority (Ray's default niceness 15 starves a job as soon as the CPU is shared)."""
    token = token_file(settings)
    if not token.exists():
        descriptor = os.open(token, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_worker_niceness": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(token),
    }


def read_info(settings: Settings) -> ClusterInfo | None:
    try:
        data = json.loads(cluster_file(settings).read_text())
        return ClusterInfo(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_info(settings: Settings, info: ClusterInfo) -> None:
    target = cluster_file(settings)
    partial = target.with_suffix(".partial")
    descriptor = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(asdict(info), handle)
    partial.replace(target)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def answers(address: str) -> bool:
    """Whether something listens at host:port (the GCS), without Ray."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            return True
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def start_lock(settings: Settings) -> Iterator[None]:
    """One process at a time decides whether to start the cluster."""
    descriptor = os.open(settings.home / "cluster.lock", os.O_CREAT | os.O_WRONLY, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def running_cluster(settings: Settings) -> ClusterInfo | None:
    """The cluster this QORCH_HOME started, if its head still runs and answers."""
    info = read_info(settings)
    if info is not None and alive(info.head_pid) and answers(info.address):
        return info
    return None


def ensure_cluster(settings: Settings, address: str | None = None) -> str:
    """The address to join: the one asked for, else this home's cluster (started if needed)."""
    chosen = address or settings.ray_address
    if chosen:
        check_address(chosen)
        return chosen
    with start_lock(settings):
        info = running_cluster(settings)
        if info is None:
            info = start_cluster(settings)
    return info.address


def check_address(address: str) -> None:
    """Refuse an address nothing answers at, at once (Ray itself would retry for minutes)."""
    if address.startswith(("ray://", "auto", "local")):
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--ray-address {address!r} is not HOST:PORT (e.g. 127.0.0.1:6380)")
    if not answers(address):
        raise ClusterError(f"no Ray cluster answers at {address}; check --ray-address / "
                           "RAY_ADDRESS, or leave it out to use this QORCH_HOME's own cluster")


def start_cluster(settings: Settings) -> ClusterInfo:
    """Start the head daemon in its own session and wait until it has written cluster.json."""
    settings.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cluster_file(settings).unlink(missing_ok=True)
    env = {**os.environ, **local_ray_environment(settings), "QORCH_HOME": str(settings.home)}
    descriptor = os.open(settings.log_dir / "cluster.log",
                         os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "qorch.orchestrator.runtime.head"],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        info = read_info(settings)
        if info is not None and info.head_pid == process.pid:
            return info
        if process.poll() is not None:
            raise ClusterError(f"the local Ray cluster did not start (exit {process.returncode});"
                               f" see {settings.log_dir / 'cluster.log'}")
        time.sleep(0.2)
    stop_process_group(process.pid)
    raise ClusterError(f"the local Ray cluster did not start within {START_TIMEOUT_S:.0f} s; "
                       f"see {settings.log_dir / 'cluster.log'}")


def connect(settings: Settings, address: str) -> None:
    """Join the cluster from this process (once). Call it before anything imports ray: Ray
    reads its switches from the environment when it loads."""
    info = read_info(settings)
    host = address.rpartition(":")[0]
    loopback = host.startswith("127.") or host == "localhost"
    # Before `import ray`: Ray reads these once, when it loads.
    if info is not None and info.address == address:
        os.environ.update(local_ray_environment(settings))
    elif loopback:  # a cluster on this machine's loopback: stay on 127.0.0.1, not the host IP
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import ray

    if ray.is_initialized():
        return
    node_ip = "127.0.0.1" if loopback else None
    try:
        ray.init(address=address, namespace=NAMESPACE, logging_level=logging.WARNING,
                 log_to_driver=False, _node_ip_address=node_ip)
    except (ConnectionError, RuntimeError, ValueError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ClusterError(
            f"cannot join the Ray cluster at {address}: {first}; check --ray-address / "
            "RAY_ADDRESS, and RAY_AUTH_TOKEN for a cluster with token auth") from err


def stop_cluster(settings: Settings) -> bool:
    """Stop this home's cluster: SIGTERM to the head (which shuts Ray down), then make sure no
    process of its session is left. False if none was running."""
    info = read_info(settings)
    if info is None or not alive(info.head_pid):
        cluster_file(settings).unlink(missing_ok=True)
        return False
    stop_process_group(info.head_pid)
    cluster_file(settings).unlink(missing_ok=True)
    return True


def session_members(session_id: int) -> list[int]:
    """PIDs in a session we started (the head and the Ray processes it spawned)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.getsid(int(entry.name)) == session_id:
                    members.append(int(entry.name))
    return members


def stop_process_group(head_pid: int) -> None:
    """SIGTERM the head, wait, then SIGKILL whatever of its session remains (by PID)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(head_pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and alive(head_pid):
        time.sleep(0.2)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(head_pid, os.WNOHANG)
    for pid in session_members(head_pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def describe(settings: Settings, address: str) -> dict[str, object]:
    """Nodes with their CPUs, memory and custom resources, and qorch's actors on the cluster."""
    from qorch.orchestrator.runtime.names import GATEWAY_PREFIX, JOB_ACTOR_PREFIX

    connect(settings, address)
    import ray

    nodes = []
    for node in ray.nodes():
        if not node.get("Alive"):
            continue
        resources = dict(node.get("Resources", {}))
        nodes.append({
            "node_id": node["NodeID"][:12], "address": node.get("NodeManagerAddress"),
            "cpus": resources.pop("CPU", 0.0),
            "memory_gib": round(resources.pop("memory", 0.0) / 2**30, 1),
            "custom": {k: v for k, v in resources.items()
                       if not k.startswith(("node:", "object_store_memory", "GPU"))},
        })
    available = ray.available_resources()
    names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)]
    return {
        "address": address,
        "nodes": nodes,
        "cpus": sum(float(str(n["cpus"])) for n in nodes),
        "cpus_free": available.get("CPU", 0.0),
        "job_actors": sorted(n.removeprefix(JOB_ACTOR_PREFIX) for n in names
                             if n.startswith(JOB_ACTOR_PREFIX)),
        "gateways": [gateway_stats(n) for n in sorted(names) if n.startswith(GATEWAY_PREFIX)],
    }


def gateway_stats(name: str) -> dict[str, object]:
    """A gateway's own figures: provider jobs, batches per job, waits, utilisation."""
    import ray

    try:
        stats: Any = ray.get(ray.get_actor(name).stats.remote(), timeout=10)
    except (ValueError, ray.exceptions.RayError) as err:
        return {"key": name, "error": str(err).splitlines()[0]}
    return dict(stats)
