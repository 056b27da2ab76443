"""The dashboard's "ping the workers": web → queue → worker → event → every open tab."""
from __future__ import annotations

from sqlalchemy import select

from app.core.events import publish_after_commit
from app.core.models import User, WorkerPing, utcnow
from app.core.queue import enqueue_after_commit
from app.extensions import db

EVENT = "worker-ping"


def ping_request(*, org_id: int, by: User) -> WorkerPing:
    """Record a ping and queue the job that answers it."""
    ping = WorkerPing(organisation_id=org_id, requested_by_id=by.id)
    db.session.add(ping)
    db.session.flush()
    from app.core import tasks  # tasks import this module

    enqueue_after_commit(tasks.answer_ping, ping.id, queue="high", org_id=org_id, timeout=60)
    publish_after_commit(org_id, EVENT, {"ping_id": ping.id})
    db.session.commit()
    return ping


def ping_answer(*, ping_id: int, worker_name: str | None) -> WorkerPing | None:
    """Mark the ping answered (once: a second run changes nothing) and tell the organisation."""
    ping = db.session.get(WorkerPing, ping_id)
    if ping is None or ping.answered_at is not None:
        return ping
    ping.answered_at, ping.worker_name = utcnow(), worker_name
    publish_after_commit(ping.organisation_id, EVENT, {"ping_id": ping.id})
    db.session.commit()
    return ping


def ping_latest(org_id: int) -> WorkerPing | None:
    return db.session.scalar(select(WorkerPing).where(WorkerPing.organisation_id == org_id)
                             .order_by(WorkerPing.id.desc()).limit(1))
