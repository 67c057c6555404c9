"""Jobs as data: the shared console, the dicts behind `--json`, progress and step counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console

console = Console()
FULL_SPLIT = {"train": 60_000}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _duration(job: Any) -> float | None:
    """Seconds it ran: until it ended, or, once INTERRUPTED, until its last heartbeat."""
    if job.started_at is None:
        return None
    end = job.ended_at
    if end is None and job.state.value == "INTERRUPTED":
        end = job.heartbeat_at or job.started_at
    end = end or datetime.now(job.started_at.tzinfo)
    return round(max((end - job.started_at).total_seconds(), 0.0), 1)


def source_spec(job: Any) -> dict[str, Any]:
    """The training spec behind a job: its own, or the trained job's for infer and compare."""
    trained = job.spec.get("trained")
    return dict(trained) if isinstance(trained, dict) else dict(job.spec)


def total_steps(job: Any) -> int:
    if job.summary and "total_steps" in job.summary:
        return int(job.summary["total_steps"])
    spec = job.spec
    n = spec.get("train_size") or FULL_SPLIT["train"]
    return int(spec.get("epochs", 1)) * -(-int(n) // int(spec.get("batch_size", 1)))


def job_dict(job: Any) -> dict[str, Any]:
    result = job.result or {}
    return {
        "id": job.id, "kind": job.kind, "owner": job.owner, "state": job.state.value,
        "phase": job.phase, "backend": job.backend, "model": source_spec(job).get("model"),
        "dataset": source_spec(job).get("dataset"), "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at), "ended_at": _iso(job.ended_at),
        "heartbeat_at": _iso(job.heartbeat_at), "duration_s": _duration(job),
        "test_accuracy": result.get("test_accuracy"), "error": job.error,
    }


def progress(job: Any, latest: dict[str, Any]) -> dict[str, Any]:
    """Steps done of a training job; batches and images evaluated of an inference job."""
    if job.kind == "train":
        done = latest["loss"].step if "loss" in latest else 0
        return {"step": done, "total_steps": total_steps(job)}
    evaluated = latest.get("evaluated")
    out = {"step": evaluated.step if evaluated else 0, "total_steps": total_steps(job)}
    if job.kind == "infer":
        out.update(images=int(evaluated.value) if evaluated else 0,
                   test_images=(job.summary or {}).get("test_examples"))
    return out


def status_dict(info: Any) -> dict[str, Any]:
    job = info.job
    latest = {name: {"value": m.value, "step": m.step, "epoch": m.epoch}
              for name, m in sorted(info.latest.items())}
    return {
        **job_dict(job),
        "spec": job.spec,
        "result": job.result,
        "progress": progress(job, info.latest),
        "summary": job.summary,
        "metrics": latest,
        "checkpoints": info.checkpoints,
        "usage": info.usage,
        "executions": [
            {"step": x.step, "purpose": x.purpose, "batch": x.batch_index, "chunk": x.chunk,
             "provider_job_id": x.provider_job_id, "status": x.status,
             "circuits": x.n_circuits, "shots": x.shots, "submitted_at": _iso(x.submitted_at),
             "finished_at": _iso(x.finished_at), "error": x.error}
            for x in info.executions
        ],
        "events": [
            {"from": e.from_state, "to": e.to_state, "origin": e.origin,
             "reason": (e.reason or "").splitlines()[-1] if e.reason else None, "at": _iso(e.at)}
            for e in info.events
        ],
    }
