"""Real multi-node Ray clusters on loopback, as users build them with `ray start`.

They run inside a network namespace of their own (`in_own_network`): there the only address
is 127.0.0.1, so Ray puts every node and every listener on loopback (on the host it would bind
all interfaces for a multi-node cluster). Each node runs in a session of its own, so every
process it started is ended by PID afterwards. PostgreSQL is reached through its unix socket.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from qorch.orchestrator.runtime.cluster import session_members, stop_process_group

RAY = str(Path(sys.executable).parent / "ray")
# Notice a dead node within seconds rather than the default half minute.
FAST_HEALTH_CHECKS = {"RAY_health_check_initial_delay_ms": "0",
                      "RAY_health_check_period_ms": "1000",
                      "RAY_health_check_failure_threshold": "3"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LoopbackCluster:
    """A head and worker nodes started with `ray start --block` on 127.0.0.1, token auth."""

    root: Path
    port: int = field(default_factory=free_port)
    nodes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def token_path(self) -> Path:
        return self.root / "token"

    def env(self) -> dict[str, str]:
        if not self.token_path.exists():
            self.token_path.write_text(secrets.token_hex(32))
            self.token_path.chmod(0o600)
        return {**os.environ, **FAST_HEALTH_CHECKS, "RAY_AUTH_MODE": "token",
                "RAY_AUTH_TOKEN_PATH": str(self.token_path), "RAY_USAGE_STATS_ENABLED": "0",
                "RAY_worker_niceness": "0",
                # Several nodes: Ray's single-machine switch (which a caller may have set) off.
                "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1"}

    def _start(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        handle = open(self.root / log, "ab")  # noqa: SIM115 - lives as long as the node
        node = subprocess.Popen([RAY, "start", "--block", "--node-ip-address", "127.0.0.1",
                                 "--disable-usage-stats", *args], env=self.env(),
                                stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.nodes.append(node)
        return node

    def start_head(self, cpus: int = 1) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._start(["--head", "--port", str(self.port), "--num-cpus", str(cpus),
                     "--include-dashboard", "false", "--temp-dir", str(self.root / "ray")],
                    "head.log")
        self.wait_for_nodes(1)

    def add_node(self, cpus: int = 1, resources: dict[str, float] | None = None
                 ) -> subprocess.Popen[bytes]:
        expected = sum(1 for n in self.nodes if n.poll() is None) + 1
        node = self._start(["--address", self.address, "--num-cpus", str(cpus),
                            "--resources", json.dumps(resources or {})],
                           f"node{len(self.nodes)}.log")
        self.wait_for_nodes(expected)
        return node

    def wait_for_nodes(self, count: int, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while self._raylets() < count:
            if time.monotonic() > deadline or self.nodes[-1].poll() is not None:
                raise RuntimeError(f"{count} Ray nodes did not come up; see {self.root}")
            time.sleep(0.5)
        time.sleep(2.0)  # the raylet registers with the GCS just after it starts

    def _raylets(self) -> int:
        return sum(1 for node in self.nodes if node.poll() is None and self.raylet_of(node))

    def raylet_of(self, node: subprocess.Popen[bytes]) -> int | None:
        """The raylet PID of one node (in the node's own session)."""
        for pid in session_members(node.pid):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "raylet":
                    return pid
            except OSError:
                continue
        return None

    def kill_raylet(self, node: subprocess.Popen[bytes]) -> None:
        pid = self.raylet_of(node)
        assert pid is not None, "the node has no raylet"
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            stop_process_group(node.pid)
            node.wait(timeout=30)


def in_own_network(module: str, *args: str, timeout: float = 600.0
                   ) -> subprocess.CompletedProcess[str]:
    """Run `python -m module args` in a new network namespace holding only loopback."""
    command = ["unshare", "--net", "sh", "-c",
               'ip link set lo up && exec "$@"', "sh", sys.executable, "-m", module, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          cwd=Path(__file__).resolve().parents[2])


def unix_socket_url(url: str) -> str:
    """The same PostgreSQL database through its unix socket (reachable from any network)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    query = {**parsed.query, "host": "/var/run/postgresql"}
    return parsed.set(host=None, port=None, query=query).render_as_string(hide_password=False)
