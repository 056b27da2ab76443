"""Background jobs of the pipeline: thin, given ids, safe to run twice."""
from __future__ import annotations

import logging
from datetime import timedelta

from rq import get_current_job

from app.core.queue import get_queue, get_redis, key
from app.extensions import db
from app.pipeline import runner
from app.pipeline.settings import setting

log = logging.getLogger(__name__)


def run_phase(phase_id: int) -> str:
    """Run one phase of one product (a duplicate or stale delivery does nothing)."""
    job = get_current_job()
    return runner.run_phase(phase_id, job.id if job else None)


def on_phase_job_failure(job, connection, exc_type, exc_value, tb) -> None:
    """RQ gave up on a phase job (its worker died): requeue the phase now, not at lease expiry."""
    if job is None or not job.args:
        return
    try:
        runner.requeue_lost(int(job.args[0]), job.id, reason=f"job {exc_type.__name__ if exc_type else 'lost'}")
    finally:
        db.session.remove()


def sweep() -> dict:
    """Requeue phases whose worker died or whose job was lost; reschedules itself while work is in flight."""
    requeued = runner.reap_stale()
    reenqueued = runner.requeue_unscheduled()
    in_flight = runner.phases_in_flight()
    db.session.rollback()
    interval = setting("PIPELINE_SWEEP_SECONDS")
    marker = key("pipeline", "sweeper")
    if in_flight:
        get_redis().set(marker, "1", ex=interval * 3)
        get_queue("high").enqueue_in(timedelta(seconds=interval), "app.pipeline.tasks.sweep",
                                     result_ttl=60, job_timeout=120)
    else:
        get_redis().delete(marker)
    return {"requeued": requeued, "reenqueued": reenqueued, "in_flight": in_flight}
