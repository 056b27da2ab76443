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


def workers_overview(org_id: int | None = None) -> list[dict]:
    """Every worker listening on our queues, with its last heartbeat.

    Workers serve every organisation: for one organisation (`org_id`), a worker's current job is
    named only when it is that organisation's; otherwise the row says the worker is busy."""
    alive_after = current_app.config["WORKER_ALIVE_SECONDS"]
    workers = sorted(_workers(), key=lambda w: w.name)
    owners = _job_owners([w.get_current_job_id() for w in workers]) if org_id is not None else {}
    rows = []
    for w in workers:
        age = _age_seconds(w.last_heartbeat)
        current = w.get_current_job_id()
        if org_id is not None and current is not None and owners.get(current) != org_id:
            current = None
        rows.append({
            "name": w.name, "state": w.get_state(), "hostname": w.hostname, "pid": w.pid,
            "last_heartbeat": w.last_heartbeat, "heartbeat_age": age,
            "alive": age is not None and age <= alive_after,
            "current_job": current, "successful": w.successful_job_count,
            "failed": w.failed_job_count, "birth": w.birth_date,
        })
    return rows


def _job_owners(job_ids: list[str | None]) -> dict[str, int | None]:
    ids = [i for i in job_ids if i]
    jobs = Job.fetch_many(ids, connection=get_redis()) if ids else []
    return {job.id: _owner(job) for job in jobs if job is not None}


def alive_worker_count() -> int:
    return sum(1 for w in workers_overview() if w["alive"])


def _owner(job: Job) -> int | None:
    """The organisation a job works for; None for system jobs (backups, sweeps, schedules)."""
    return (job.meta or {}).get("organisation_id")


def failed_jobs(org_id: int, limit: int = 50) -> list[dict]:
    """Failed jobs of this organisation, newest first, with tracebacks.

    System jobs are left out: their tracebacks name other organisations' work and paths of the
    server, and retrying them is the operator's business (`rq` or the logs), not an admin's."""
    rows = []
    for q in all_queues():
        registry = FailedJobRegistry(queue=q)
        for job in Job.fetch_many(registry.get_job_ids(), connection=get_redis()):
            if job is None or _owner(job) != org_id:
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
    if _owner(job) != org_id:
        raise NotFound("That job no longer exists (failed jobs are kept for 7 days).")
    for q in all_queues():
        registry = FailedJobRegistry(queue=q)
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            return
    raise NotFound("That job is not in a failed state any more.")
