"""`qorch cluster status` for people: nodes, gateways, running and waiting jobs."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from qorch.cli.render import console


def cluster_view(info: dict[str, Any]) -> None:
    if info["address"] is None:
        console.print("no cluster running for this QORCH_HOME (a job starts one; or `qorch "
                      "cluster up`)")
    else:
        console.print(f"cluster at {info['address']}: {info['cpus']:g} CPUs, "
                      f"{info['cpus_free']:g} free")
        table = Table(title="nodes")
        for column in ("node", "address", "CPUs", "memory GiB", "custom resources"):
            table.add_column(column)
        for node in info["nodes"]:
            custom = ", ".join(f"{k}={v:g}" for k, v in node["custom"].items()) or "—"
            table.add_row(node["node_id"], str(node["address"]), f"{node['cpus']:g}",
                          f"{node['memory_gib']:g}", custom)
        console.print(table)
        if info.get("gateways"):
            gateways = Table(title="circuit gateways")
            for column in ("backend/shots/noise", "provider jobs", "batches/job", "rows/job",
                           "median wait", "busy", "queued"):
                gateways.add_column(column)
            for g in info["gateways"]:
                if "error" in g:
                    gateways.add_row(g["key"], g["error"], "", "", "", "", "")
                    continue
                gateways.add_row(
                    g["key"].removeprefix("qorch-gateway-"), str(g["provider_jobs"]),
                    f"{g['batches_per_job']:.1f}", f"{g['rows_per_job']:.0f}",
                    f"{g['wait_ms_median']:.0f} ms", f"{g['utilisation']:.0%}", str(g["queued"]))
            console.print(gateways)
    console.print(f"running jobs: {', '.join(info['running']) or 'none'}")
    console.print(f"waiting jobs: {', '.join(info['waiting']) or 'none'}")
