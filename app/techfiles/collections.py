"""Collections and the orchestrator: base views → close-ups → sketches for a product, live progress.

The work is cut into units (step × source photo). Each unit's files and collection items are
written in one transaction, so a unit is either all there or not at all; a retry skips units
that are there (their credits were already charged) and resumes at the failed step.

A run holds a lease (app.core.leases) renewed by a heartbeat; when its worker dies the lease
runs out and the sweeper puts the collection back in the queue, where it resumes the same way.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app.core import ai, audit, leases
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import utcnow
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.pipeline.models import ProductImage
from app.techfiles import generators, services
from app.techfiles.models import (
    DEFAULT_REVISION,
    STEP_FILE_TYPE,
    STEP_LABEL,
    Collection,
    CollectionItem,
    CollectionKind,
    CollectionStatus,
    FileType,
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


def _changed(c: Collection) -> None:
    publish_after_commit(c.organisation_id, PROGRESS_EVENT,
                         {"collection_id": c.id, "progress": c.progress, "status": c.status.value})


def _clean_revision(revision: str | None) -> str:
    value = (revision or DEFAULT_REVISION).strip()
    if not value or len(value) > 40:
        raise InvalidInput("A revision is a short label such as 1, 2 or B (up to 40 characters).", field="revision")
    return value


def collection_start(*, org_id: int, product_id: int, kind: str = "tech_pack", revision: str | None = None,
                     by) -> Collection:
    """Create a collection for a product's photos and queue its generation."""
    product = services.load_product(org_id, product_id)
    try:
        kind_value = CollectionKind(kind)
    except ValueError:
        raise InvalidInput("Choose what to generate: tech pack, base views, close-ups or sketches.",
                           field="kind") from None
    revision = _clean_revision(revision)
    if not product.images:
        raise InvalidInput("This product has no photos yet: upload photos first.")
    busy = db.session.scalar(select(Collection.id).where(
        Collection.organisation_id == org_id, Collection.product_id == product.id,
        Collection.status.in_((CollectionStatus.QUEUED, CollectionStatus.RUNNING))).limit(1))
    if busy is not None:
        raise Conflict(f"Collection #{busy} is still generating files for this product; wait for it to finish.")
    c = Collection(organisation_id=org_id, product_id=product.id, kind=kind_value, revision=revision,
                   status=CollectionStatus.QUEUED, progress=0, batch_id=uuid.uuid4().hex,
                   current_step="Waiting for a worker", created_by_id=by.id if by else None)
    db.session.add(c)
    db.session.flush()
    audit.record(org_id=org_id, actor_id=c.created_by_id, action="techfiles.collection_start",
                 object_type="tech_collection", object_id=c.id, after={"kind": kind_value.value, "revision": revision})
    _enqueue_run(c)
    _changed(c)
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
    CollectionStatus.check(c.status, CollectionStatus.QUEUED)
    c.status, c.error, c.current_step = CollectionStatus.QUEUED, None, "Waiting for a worker"
    audit.record(org_id=org_id, actor_id=by.id if by else None, action="techfiles.collection_retry",
                 object_type="tech_collection", object_id=c.id, after={"from_step": c.failed_step})
    _enqueue_run(c)
    _changed(c)
    db.session.commit()
    leases.ensure_sweeping()
    return c


# --- the run ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Photo:
    id: int
    sha256: str
    position: int
    filename: str


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
        _run_units(collection_id, holder)


def _run_units(collection_id: int, holder: str) -> None:
    c = db.session.get(Collection, collection_id)
    _changed(c)
    db.session.commit()
    images = db.session.scalars(select(ProductImage).where(ProductImage.product_id == c.product_id)
                                .order_by(ProductImage.position, ProductImage.id)).all()
    photos = [Photo(i.id, i.sha256, i.position, i.filename) for i in images]
    steps = c.kind.steps
    done = set(db.session.scalars(select(CollectionItem.unit_key).where(CollectionItem.collection_id == c.id)))
    org_id, product_id, revision, batch_id, by_id = (c.organisation_id, c.product_id, c.revision, c.batch_id,
                                                     c.created_by_id)
    db.session.commit()
    if not photos:
        _fail(collection_id, steps[0], "the product has no photos any more")
        return
    total = len(steps) * len(photos)
    for step_index, step in enumerate(steps):
        for n, photo in enumerate(photos, start=1):
            unit = f"{step}:{photo.id}"
            if unit in done:
                continue
            if not _progress(collection_id, holder, len(done), total,
                             f"{STEP_LABEL[step]}: photo {n} of {len(photos)}"):
                log.warning("collection %s: the lease passed to another worker; this run stops", collection_id)
                return
            try:
                _run_unit(org_id=org_id, product_id=product_id, revision=revision, batch_id=batch_id, by_id=by_id,
                          collection_id=collection_id, step=step, step_index=step_index, photo=photo, unit=unit)
            except DomainError as exc:
                _fail(collection_id, step, f"{STEP_LABEL[step]} failed on photo {n} ({photo.filename}): {exc.message}")
                return
            except Exception as exc:  # recorded on the row for the person, with the traceback in the log
                log.exception("collection %s: %s failed on photo %s", collection_id, step, photo.id)
                _fail(collection_id, step, f"{STEP_LABEL[step]} failed on photo {n} ({photo.filename}): "
                                           f"{type(exc).__name__}: {exc}")
                return
            done.add(unit)
    _finish(collection_id)


def _run_unit(*, org_id, product_id, revision, batch_id, by_id, collection_id, step, step_index, photo, unit) -> None:
    file_type = STEP_FILE_TYPE[step]
    image = services.open_photo(photo.sha256)
    if file_type == FileType.CLOSE_UP:
        rendered = generators.close_ups(image)
    else:
        rendered = [services.render(file_type, image, None)]
    prepared = []
    for r in rendered:
        new = services.store_rendered(r, file_type, served=ai.Served(org_id, "collection", collection_id,
                                                                     "product", product_id))
        new.source_image_id, new.batch_id = photo.id, batch_id
        prepared.append((r.category, new))
    cost = services.credit_cost(org_id, file_type)
    view = generators.view_for_position(photo.position)
    for k, (category, new) in enumerate(prepared):
        new.credits = cost
        row = services.add_version(org_id=org_id, product_id=product_id, revision=revision, file_type=file_type,
                                   view=view, category=category, new=new, by_id=by_id, action="generated",
                                   reason=f"collection #{collection_id}")
        db.session.add(CollectionItem(organisation_id=org_id, collection_id=collection_id, tech_file_id=row.id,
                                      section=step, position=step_index * 100_000 + photo.position * 100 + k,
                                      unit_key=unit))
    services.commit_versions()


def _progress(collection_id: int, holder: str, done: int, total: int, step_text: str) -> bool:
    """Record progress, if this run still holds the collection (False: stop, another run has it)."""
    c = db.session.get(Collection, collection_id)
    db.session.refresh(c)
    if c.status != CollectionStatus.RUNNING or c.rq_job_id != holder:
        db.session.rollback()
        return False
    c.progress, c.current_step = int(100 * done / total), step_text
    _changed(c)
    db.session.commit()
    return True


def _fail(collection_id: int, step: str, reason: str) -> None:
    db.session.rollback()
    c = db.session.get(Collection, collection_id)
    c.status, c.failed_step, c.error, c.lease_until = CollectionStatus.FAILED, step, reason[:2000], None
    c.current_step, c.finished_at = f"Stopped at {STEP_LABEL[step].lower()}", utcnow()
    _changed(c)
    db.session.commit()


def _finish(collection_id: int) -> None:
    c = db.session.get(Collection, collection_id)
    c.status, c.progress, c.current_step, c.finished_at = CollectionStatus.COMPLETED, 100, "Done", utcnow()
    c.lease_until = None
    _changed(c)
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
            _changed(c)
        db.session.commit()
    return _collections_busy()


def _collections_busy() -> bool:
    busy = db.session.scalar(select(Collection.id).where(
        Collection.status.in_((CollectionStatus.QUEUED, CollectionStatus.RUNNING))).limit(1))
    db.session.rollback()
    return busy is not None


leases.register_sweeper("techfiles", sweep, every=lambda: max(1.0, lease_seconds() / 2))
