"""Collections: start, retry, the run under a lease, live progress, the sweeper.

A collection is a named run for one product revision ("Winter 2025 line") making the sections
chosen: base views → close-ups → sketches (per photo) → category sheet → complete pack. The
work is cut into units (app.techfiles.runs): each is reused when unchanged, or made and
written in one transaction; a retry skips units that are done and resumes at the failed step.

A run holds a lease (app.core.leases) renewed by a heartbeat; when its worker dies the lease
runs out and the sweeper puts the collection back in the queue, where it resumes the same way.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid

from flask import current_app
from sqlalchemy import select

from app.core import audit, leases
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import utcnow
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.techfiles import services
from app.techfiles.models import (
    DEFAULT_REVISION,
    STEP_LABEL,
    STEPS,
    Collection,
    CollectionKind,
    CollectionStatus,
)

log = logging.getLogger(__name__)
PROGRESS_EVENT = "collection-progress"
JOB_TIMEOUT = 1800


def lease_seconds() -> float:
    return float(current_app.config.get("TECHFILES_LEASE_SECONDS") or 30)


# A running collection's lease: held by the job (or worker) running it.
COLLECTION_LEASE = leases.Leased(Collection, lease_seconds, holder="rq_job_id", lease_until="lease_until")


def _enqueue_run(c: Collection) -> None:
    from app.techfiles.tasks import run_collection

    enqueue_after_commit(run_collection, c.id, org_id=c.organisation_id, timeout=JOB_TIMEOUT)


def changed(c: Collection) -> None:
    """Tell the pages the collection moved on (after commit)."""
    publish_after_commit(c.organisation_id, PROGRESS_EVENT,
                         {"collection_id": c.id, "progress": c.progress, "status": c.status.value})


def _clean_revision(revision: str | None) -> str:
    value = (revision or DEFAULT_REVISION).strip()
    if not value or len(value) > 40:
        raise InvalidInput("A revision is a short label such as 1, 2 or B (up to 40 characters).", field="revision")
    return value


def _clean_name(name: str | None) -> str | None:
    value = (name or "").strip()
    if len(value) > 120:
        raise InvalidInput("A collection name is up to 120 characters.", field="name")
    return value or None


def _clean_sections(sections) -> list[str] | None:
    """The sections chosen, in pack order; None when none were (the kind's own then)."""
    chosen = [s for s in (sections or []) if s]
    unknown = [s for s in chosen if s not in STEPS]
    if unknown:
        raise InvalidInput(f"Unknown section: {', '.join(unknown)}.", field="sections")
    return [s for s in STEPS if s in chosen] if chosen else None


def _set_status(c: Collection, new: CollectionStatus) -> None:
    CollectionStatus.check(c.status, new)
    c.status = CollectionStatus(new)


def collection_start(*, org_id: int, product_id: int, kind: str = "tech_pack", revision: str | None = None,
                     name: str | None = None, sections=None, force: bool = False, by) -> Collection:
    """Create a collection for a product's photos and queue its generation."""
    product = services.load_product(org_id, product_id)
    try:
        kind_value = CollectionKind(kind)
    except ValueError:
        raise InvalidInput("Choose what to generate: tech pack, base views, close-ups, sketches or a category "
                           "sheet.", field="kind") from None
    revision, name, chosen = _clean_revision(revision), _clean_name(name), _clean_sections(sections)
    if not product.images:
        raise InvalidInput("This product has no photos yet: upload photos first.")
    busy = db.session.scalar(select(Collection.id).where(
        Collection.organisation_id == org_id, Collection.product_id == product.id,
        Collection.status.in_(CollectionStatus.group("in_flight"))).limit(1))
    if busy is not None:
        raise Conflict(f"Collection #{busy} is still generating files for this product; wait for it to finish.")
    c = Collection(organisation_id=org_id, product_id=product.id, kind=kind_value, revision=revision, name=name,
                   sections=chosen, force=bool(force), status=CollectionStatus.QUEUED, progress=0,
                   batch_id=uuid.uuid4().hex, current_step="Waiting for a worker", created_by_id=by.id if by else None)
    db.session.add(c)
    db.session.flush()
    audit.record(org_id=org_id, actor_id=c.created_by_id, action="techfiles.collection_start",
                 object_type="tech_collection", object_id=c.id,
                 after={"kind": kind_value.value, "revision": revision, "name": name, "sections": list(c.steps),
                        "force": bool(force)})
    _enqueue_run(c)
    changed(c)
    db.session.commit()
    leases.ensure_sweeping()
    return c


def collection_retry(*, org_id: int, collection_id: int, by) -> Collection:
    """Queue a failed (or abandoned) collection again; finished units are kept and not charged again."""
    c = db.session.get(Collection, collection_id)
    if c is None or c.organisation_id != org_id:
        raise NotFound("There is no such collection in your organisation.")
    if not c.retryable:
        raise Conflict(f"Only a failed collection can be retried; this one is {c.status.value}.")
    _set_status(c, CollectionStatus.QUEUED)
    c.error, c.current_step = None, "Waiting for a worker"
    audit.record(org_id=org_id, actor_id=by.id if by else None, action="techfiles.collection_retry",
                 object_type="tech_collection", object_id=c.id, after={"from_step": c.failed_step})
    _enqueue_run(c)
    changed(c)
    db.session.commit()
    leases.ensure_sweeping()
    return c


# --- the run ----------------------------------------------------------------------------------

def _holder() -> str:
    from rq import get_current_job

    job = get_current_job()
    return job.id if job is not None else f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claim(collection_id: int, holder: str) -> bool:
    # One statement, so two deliveries of the same job cannot both start the run.
    now = utcnow()
    return bool(leases.claim(COLLECTION_LEASE, holder=holder, ready=CollectionStatus.QUEUED,
                             claimed=CollectionStatus.RUNNING, where=(Collection.id == collection_id,), now=now,
                             values={"attempts": Collection.attempts + 1, "started_at": now, "updated_at": now,
                                     "failed_step": None}))


def _renew(collection_id: int, holder: str) -> None:
    leases.renew(COLLECTION_LEASE, holder=holder, held=(CollectionStatus.RUNNING,), ids=[collection_id])
    db.session.commit()


def collection_run(*, collection_id: int) -> None:
    """Generate every missing unit of a queued collection, publishing progress as it goes."""
    holder = _holder()
    if not _claim(collection_id, holder):
        db.session.rollback()
        return
    db.session.commit()
    with leases.Heartbeat(lambda: _renew(collection_id, holder), lease_seconds() / 3,
                          name=f"collection-{collection_id}-heartbeat"):
        from app.techfiles.runs import run_units

        run_units(collection_id, holder)


def progress(collection_id: int, holder: str, done: int, total: int, step_text: str) -> bool:
    """Record progress, if this run still holds the collection (False: stop, another run has it)."""
    c = db.session.get(Collection, collection_id)
    db.session.refresh(c)
    if c.status != CollectionStatus.RUNNING or c.rq_job_id != holder:
        db.session.rollback()
        return False
    c.progress, c.current_step = int(100 * done / total), step_text
    changed(c)
    db.session.commit()
    return True


def fail(collection_id: int, step: str, reason: str) -> None:
    """The run stops at a step, with the reason a person reads; a retry resumes there."""
    db.session.rollback()
    c = db.session.get(Collection, collection_id)
    _set_status(c, CollectionStatus.FAILED)
    c.failed_step, c.error, c.lease_until = step, reason[:2000], None
    c.current_step, c.finished_at = f"Stopped at {STEP_LABEL[step].lower()}", utcnow()
    changed(c)
    db.session.commit()


def finish(collection_id: int, summary: str = "Done") -> None:
    """The run made (or reused) every file of every section."""
    c = db.session.get(Collection, collection_id)
    _set_status(c, CollectionStatus.COMPLETED)
    c.progress, c.current_step, c.finished_at = 100, summary[:200], utcnow()
    c.lease_until = None
    changed(c)
    db.session.commit()


def sweep() -> bool:
    """The tech files' sweeper: a running collection whose lease ran out (its worker died) goes back
    to the queue and resumes; True while collections are queued or running."""
    from app.core.database import write_intent

    if not leases.expired(COLLECTION_LEASE, held=(CollectionStatus.RUNNING,), limit=1):
        db.session.rollback()
        return _collections_busy()
    db.session.rollback()
    with write_intent():
        back = leases.release_expired(COLLECTION_LEASE, held=(CollectionStatus.RUNNING,),
                                      to_status=CollectionStatus.QUEUED,
                                      values={"current_step": "Waiting for a worker (the last one stopped)"},
                                      returning=(Collection.organisation_id,))
        for collection_id, _org_id in back:
            c = db.session.get(Collection, collection_id)
            log.warning("collection %s: its worker stopped; queued again", collection_id)
            _enqueue_run(c)
            changed(c)
        db.session.commit()
    return _collections_busy()


def _collections_busy() -> bool:
    busy = db.session.scalar(select(Collection.id).where(
        Collection.status.in_(CollectionStatus.group("in_flight"))).limit(1))
    db.session.rollback()
    return busy is not None


leases.register_sweeper("techfiles", sweep, every=lambda: max(1.0, lease_seconds() / 2))
