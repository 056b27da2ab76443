"""The leases of running phases (a heartbeat per job) and recovery of the pipeline's work when
a worker or an enqueue is lost: phases whose lease ran out
are requeued (or failed after MAX_ATTEMPTS), phases queued without a job on Redis are enqueued
again, and the periodic sweep that does both (registered with the lease engine, app.core.leases).

It runs from the sweep, from every heartbeat (`_beat`), from RQ's abandoned-job callback
(`tasks.on_phase_job_failure`) and from `flask pipeline reap-stale`.
"""
from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.core import database, leases
from app.core.events import publish_after_commit
from app.core.models import utcnow
from app.core.queue import get_redis
from app.extensions import db
from app.pipeline.models import PhaseStatus, Product, ProductPhase, ProductStatus
from app.pipeline.phases import MAX_ATTEMPTS
from app.pipeline.run_log import log_in_session
from app.pipeline.runner import PHASE_LEASE, PRODUCT_EVENT, _handed_on, enqueue_phase_job, lease_seconds, queue_phase
from app.pipeline.settings import setting

# --- the leases of running phases --------------------------------------------------------------------------------

def heartbeat(phase_id: int | None, job_id: str | None):
    """Renews the leases a phase holds while it runs: those of every phase its job holds (`phase_id`
    None), or this phase's own; nothing when `run_phases` beats for this job already."""
    handed_on = _handed_on.get()
    if phase_id is not None and job_id is not None and handed_on is not None and handed_on.holder == job_id:
        return nullcontext()
    if phase_id is None and job_id is None:
        return nullcontext()  # a run without a job: each phase beats for itself
    return leases.Heartbeat(lambda: _beat(phase_id, job_id), lease_seconds() / 3,
                            name=f"{'phase-' + str(phase_id) if phase_id else job_id}-heartbeat")


def _beat(phase_id: int | None, job_id: str | None) -> None:
    """Extend the leases (this phase's, or all its job holds); and, while at it, give back phases whose workers died."""
    with database.write_intent():
        if job_id:
            leases.renew(PHASE_LEASE, holder=job_id, held=(PhaseStatus.RUNNING,),
                         ids=[phase_id] if phase_id is not None else None)
        db.session.commit()
    reap_stale()


def held_by(job_id: str, *, besides: int | None = None) -> list[int]:
    """Phases running under a job: its own, and those its horse took over."""
    held = db.session.scalars(select(ProductPhase.id).where(
        ProductPhase.rq_job_id == job_id, ProductPhase.status == PhaseStatus.RUNNING,
        ProductPhase.id != (besides or 0)).order_by(ProductPhase.id)).all()
    db.session.rollback()
    return list(held)


def reap_stale(now: datetime | None = None) -> int:
    """Requeue running phases whose lease expired (their worker died); returns how many."""
    stale = leases.expired(PHASE_LEASE, held=(PhaseStatus.RUNNING,), now=now or datetime.now(UTC), limit=200)
    db.session.rollback()
    return sum(1 for phase_id, job_id in stale if requeue_lost(phase_id, job_id, reason="lease expired"))


def requeue_lost_job(job_id: str, *, reason: str) -> int:
    """Requeue every phase still running under a job that died."""
    return sum(1 for phase_id in held_by(job_id) if requeue_lost(phase_id, job_id, reason=reason))


def requeue_lost(phase_id: int, job_id: str | None, *, reason: str) -> bool:
    """Put a running phase whose job died back on the queue (or fail it after MAX_ATTEMPTS)."""
    with database.write_intent():
        phase = db.session.get(ProductPhase, phase_id)
        if phase is None or phase.status != PhaseStatus.RUNNING or phase.rq_job_id != job_id:
            db.session.rollback()
            return False
        product = phase.product
        if phase.attempts >= MAX_ATTEMPTS:
            phase.status, phase.finished_at, phase.lease_until = PhaseStatus.FAILED, utcnow(), None
            phase.error = f"the worker running it stopped {phase.attempts} times ({reason})"
            product.set_status(ProductStatus.ERROR)
            message, level = f"{phase.name} failed: {phase.error}", "error"
        else:
            queue_phase(phase, product)
            message, level = f"{phase.name} requeued: its worker stopped ({reason})", "warning"
        log_in_session(product, phase.name, level, message, {"old_job_id": job_id})
        publish_after_commit(product.organisation_id, PRODUCT_EVENT,
                             {"product_id": product.id, "status": product.status.value})
        db.session.commit()
        return True


def requeue_unscheduled(now: datetime | None = None, grace: int | None = None) -> int:
    """Re-enqueue queued phases whose RQ job vanished (an enqueue lost after commit)."""
    grace = setting("PIPELINE_REQUEUE_GRACE_SECONDS") if grace is None else grace
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    now = now or datetime.now(UTC)
    rows = db.session.execute(
        select(ProductPhase.id, ProductPhase.rq_job_id, ProductPhase.organisation_id, Product.queue)
        .join(Product, Product.id == ProductPhase.product_id)
        .where(ProductPhase.status == PhaseStatus.QUEUED,
               ProductPhase.queued_at < now - timedelta(seconds=grace)).limit(500)).all()
    db.session.rollback()
    fixed = 0
    for phase_id, job_id, org_id, queue in rows:
        try:
            status = Job.fetch(job_id, connection=get_redis()).get_status(refresh=False)
        except NoSuchJobError:
            status = None
        if status is None or status.value in ("failed", "stopped", "canceled", "finished"):
            enqueue_phase_job(phase_id, job_id, queue=queue, org_id=org_id)
            fixed += 1
    return fixed


def phases_in_flight() -> int:
    return db.session.scalar(select(func.count()).select_from(ProductPhase).where(
        ProductPhase.status.in_((PhaseStatus.QUEUED, PhaseStatus.RUNNING)))) or 0


def sweep() -> bool:
    """The pipeline's sweeper: requeue phases of dead workers and lost jobs; True while phases are in flight.

    It only reads until it finds something to fix (each fix takes the write lock on its own), so
    an idle sweep every few seconds never makes writers wait."""
    reap_stale()
    requeue_unscheduled()
    in_flight = phases_in_flight()
    db.session.rollback()
    return in_flight > 0


leases.register_sweeper("pipeline", sweep, every=lambda: setting("PIPELINE_SWEEP_SECONDS"))

