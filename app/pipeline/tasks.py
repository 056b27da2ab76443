"""Background jobs of the pipeline: thin, given ids, safe to run twice."""
from __future__ import annotations

import logging

from rq import get_current_job

from app.extensions import db
from app.pipeline import recovery, runner

log = logging.getLogger(__name__)


def run_phase(phase_id: int) -> str:
    """Run one phase of one product, then its next phases (a duplicate or stale delivery does nothing)."""
    job = get_current_job()
    # Run again after the database went away (app.core.worker.AppJob): the phase may still be ours.
    rerun = bool(getattr(job, "database_reruns", 0))
    return runner.run_phases(phase_id, job.id if job else None, rerun=rerun, worker=job.worker_name if job else None)


def on_phase_job_failure(job, connection, exc_type, exc_value, tb) -> None:
    """RQ gave up on a phase job (its worker died): requeue the phases it held now, not at lease expiry."""
    if job is None or not job.args:
        return
    try:
        recovery.requeue_lost_job(job.id, reason=f"job {exc_type.__name__ if exc_type else 'lost'}")
    finally:
        db.session.remove()
