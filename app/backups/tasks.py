"""Background jobs of backups: thin, given ids, safe to run twice (a claimed run is not claimed again)."""
from __future__ import annotations

from rq import get_current_job

from app.backups import services


def run_backup_job(run_id: int) -> None:
    job = get_current_job()
    holder = job.id if job is not None else f"run-{run_id}"
    if services.run_claim(run_id=run_id, holder=holder):
        services.run_execute(run_id=run_id, holder=holder)
