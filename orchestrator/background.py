"""`python -m orchestrator.background JOB`: runs a detached job on its own embedded Ray."""

from __future__ import annotations

import sys

from qorch.orchestrator.service import job_threads
from qorch.orchestrator.settings import load_settings
from qorch.orchestrator.submit import follow, launch


def main(job_id: str) -> int:
    settings = load_settings()
    launched = launch(settings, job_id, threads=job_threads(settings, job_id), address=None,
                      detach=False)
    job = follow(settings, launched, lambda *_: None)
    print(f"job {job.id} ended {job.state}", flush=True)
    return 0 if job.state == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
