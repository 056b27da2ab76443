"""What the queues and workers are doing, for the admin "Jobs and workers" page and health."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from app.core.errors import NotFound
from app.core.queue import all_queues, get_redis


def queue_overview() -> list[dict]:
    """Counts per queue: waiting, running, failed, finished, deferred, scheduled."""
    rows = []
    for q in all_queues():
        rows.append({
            "name": q.name.rsplit(":", 1)[-1],
            "queued": q.count,
            "started": StartedJobRegistry(queue=q).count,
            "failed": FailedJobRegistry(queue=q).count,
            "finished": FinishedJobRegistry(queue=q).count,
            "deferred": DeferredJobRegistry(queue=q).count,
            "scheduled": ScheduledJobRegistry(queue=q).count,
        })
    return rows


def _workers() -> list[Worker]:
    seen: dict[str, Worker] = {}
    for q in all_queues():
        for w in Worker.all(queue=q):
            seen[w.name] = w
    return list(seen.values())


def _age_seconds(when: datetime | None) -> float | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (datetime.now(UTC) - when).total_seconds()


def workers_overview() -> list[dict]:
    """Every worker listening on our queues, with its last heartbeat and current job."""
    alive_after = current_app.config["WORKER_ALIVE_SECONDS"]
    rows = []
    for w in sorted(_workers(), key=lambda w: w.name):
        age = _age_seconds(w.last_heartbeat)
        rows.append({
            "name": w.name, "state": w.get_state(), "hostname": w.hostname, "pid": w.pid,
            "last_heartbeat": w.last_heartbeat, "heartbeat_age": age,
            "alive": age is not None and age <= alive_after,
            "current_job": w.get_current_job_id(), "successful": w.successful_job_count,
            "failed": w.failed_job_count, "birth": w.birth_date,
        })
    return rows


def alive_worker_count() -> int:
    return sum(1 for w in workers_overview() if w["alive"])


def _visible(job: Job, org_id: int) -> bool:
    owner = (job.meta or {}).get("organisation_id")
    return owner is None or owner == org_id


def failed_jobs(org_id: int, limit: int = 50) -> list[dict]:
    """Failed jobs of this organisation (and system jobs), newest first, with tracebacks."""
    rows = []
    for q in all_queues():
        registry = FailedJobRegistry(queue=q)
        for job in Job.fetch_many(registry.get_job_ids(), connection=get_redis()):
            if job is None or not _visible(job, org_id):
                continue
            result = job.latest_result()
            rows.append({"id": job.id, "queue": q.name.rsplit(":", 1)[-1], "func": job.func_name,
                         "args": job.args, "ended_at": job.ended_at,
                         "exc_info": (result.exc_string if result else None) or ""})
    rows.sort(key=lambda r: r["ended_at"] or datetime.min, reverse=True)
    return rows[:limit]


def retry_failed_job(*, job_id: str, org_id: int) -> None:
    """Put a failed job back on its queue."""
    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        raise NotFound("That job no longer exists (failed jobs are kept for 7 days).") from None
    if not _visible(job, org_id):
        raise NotFound("That job no longer exists (failed jobs are kept for 7 days).")
    for q in all_queues():
        registry = FailedJobRegistry(queue=q)
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            return
    raise NotFound("That job is not in a failed state any more.")
