"""`python -m qorch.orchestrator.runtime.head`: the head of this QORCH_HOME's local Ray cluster.

It starts Ray (loopback only, token auth, no dashboard, a free port, temp dir under
QORCH_HOME), records the address in cluster.json, and shuts Ray down on SIGTERM or once no job
has run for QORCH_IDLE_SHUTDOWN seconds, so a laptop is not left running a Ray head.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from types import FrameType

from qorch.orchestrator.runtime.cluster import (
    NAMESPACE,
    ClusterInfo,
    cluster_file,
    ray_temp_dir,
    read_info,
    write_info,
)
from qorch.orchestrator.runtime.names import JOB_ACTOR_PREFIX
from qorch.orchestrator.settings import Settings

CHECK_EVERY_S = 5.0
log = logging.getLogger("qorch.head")


class Stop(Exception):
    """SIGTERM or SIGINT reached the head."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def busy() -> bool:
    """Whether any qorch job actor exists on the cluster (placed or waiting to be)."""
    import ray

    return any(a["name"].startswith(JOB_ACTOR_PREFIX)
               for a in ray.util.list_named_actors(all_namespaces=True))


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    import ray

    temp_dir = ray_temp_dir(settings)
    temp_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        ray.init(address="local", include_dashboard=False, _temp_dir=str(temp_dir),
                 namespace=NAMESPACE, num_cpus=os.cpu_count() or 1,
                 logging_level=logging.WARNING, log_to_driver=False)
        address = ray.get_runtime_context().gcs_address
        write_info(settings, ClusterInfo(address, os.getpid(), str(temp_dir), time.time()))
        log.info("Ray cluster at %s (pid %d); idle shutdown after %.0f s", address, os.getpid(),
                 settings.idle_shutdown_s)
        idle_since = time.monotonic()
        while True:
            time.sleep(CHECK_EVERY_S)
            info = read_info(settings)
            if info is None or info.head_pid != os.getpid():
                log.info("cluster.json no longer names this head; stopping")
                break
            if busy():
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= settings.idle_shutdown_s:
                log.info("no job for %.0f s; stopping", settings.idle_shutdown_s)
                break
    except Stop as why:
        log.info("%s received; stopping", why)
    finally:
        info = read_info(settings)
        if info is not None and info.head_pid == os.getpid():
            cluster_file(settings).unlink(missing_ok=True)
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
