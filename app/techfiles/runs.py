"""A collection's run, unit by unit: reuse what is unchanged, make the rest, say which is which.

For each unit (a step for one photo, or the category sheet, or the complete pack):

1. plan the files and their fingerprints (app.techfiles.units);
2. unless the collection forces regeneration, a unit whose slots all hold a completed file with
   that fingerprint is *reused*: its files join the collection as they are, at no charge;
3. otherwise a processing placeholder per file is written (the pages show it), the files are
   made outside any transaction, and each placeholder becomes the completed, latest, charged
   version — or failed, with the reason, when making it failed (a retry makes it again).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, select

from app.core import ai
from app.core.errors import DomainError
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.pipeline.models import ProductImage
from app.techfiles import collections, units
from app.techfiles.models import (
    PER_PHOTO_STEPS,
    STEP_LABEL,
    Collection,
    CollectionItem,
    FileStatus,
    TechFile,
)
from app.techfiles.services import credit_cost
from app.techfiles.versions import (
    commit_versions,
    latest_in_slot,
    placeholder_complete,
    placeholder_create,
    placeholder_fail,
    placeholder_restart,
)

log = logging.getLogger(__name__)
PENDING = (FileStatus.PROCESSING, FileStatus.FAILED)


@dataclass(frozen=True)
class Run:
    collection_id: int
    org_id: int
    product_id: int
    revision: str
    batch_id: str
    by_id: int | None
    force: bool
    steps: tuple[str, ...]

    @property
    def ctx(self) -> units.Context:
        return units.Context(self.org_id, self.product_id, self.revision,
                             ai.Served(self.org_id, "collection", self.collection_id, "product", self.product_id))


def _done_units(collection_id: int) -> set[str]:
    """Units whose every file was made (a file never made — processing, failed, or put away failed — is not)."""
    rows = db.session.execute(select(CollectionItem.unit_key, TechFile.status, TechFile.sha256).join(
        TechFile, TechFile.id == CollectionItem.tech_file_id).where(CollectionItem.collection_id == collection_id)).all()
    pending = {unit for unit, status, sha in rows if status in PENDING or sha is None}
    return {unit for unit, _status, _sha in rows} - pending


def _load(collection_id: int) -> tuple[Run, list[units.Photo]]:
    c = db.session.get(Collection, collection_id)
    collections.changed(c)
    images = db.session.scalars(select(ProductImage).where(ProductImage.product_id == c.product_id)
                                .order_by(ProductImage.position, ProductImage.id)).all()
    photos = [units.Photo(i.id, i.sha256, i.position, i.filename) for i in images]
    run = Run(c.id, c.organisation_id, c.product_id, c.revision, c.batch_id, c.created_by_id, bool(c.force), c.steps)
    db.session.commit()
    return run, photos


def run_units(collection_id: int, holder: str) -> None:
    """Every unit of the collection not done yet, in pack order, with progress after each."""
    run, photos = _load(collection_id)
    if not photos:
        collections.fail(collection_id, run.steps[0], "the product has no photos any more")
        return
    work = [(step, photo) for step in run.steps for photo in (photos if step in PER_PHOTO_STEPS else [None])]
    done = _done_units(collection_id)
    db.session.commit()
    for step, photo in work:
        key = units.unit_key(step, photo)
        if key in done:
            continue
        where = f"photo {photos.index(photo) + 1} of {len(photos)}" if photo else ""
        if not collections.progress(collection_id, holder, len(done), len(work),
                                    f"{STEP_LABEL[step]}: {where}" if where else STEP_LABEL[step]):
            log.warning("collection %s: the lease passed to another worker; this run stops", collection_id)
            return
        try:
            _run_unit(run, step, photo, key)
        except Exception as exc:  # recorded on the files and the collection for the person; traceback in the log
            _unit_failed(run, step, photo, key, exc)
            return
        done.add(key)
    if "complete_pack" not in run.steps:
        from app.techfiles.tasks import refresh_pack

        enqueue_after_commit(refresh_pack, run.org_id, run.product_id, run.revision, org_id=run.org_id)
    collections.finish(collection_id, _summary(collection_id))


def _unit_failed(run: Run, step: str, photo: units.Photo | None, key: str, exc: Exception) -> None:
    where = f" on photo {photo.position + 1} ({photo.filename})" if photo else ""
    if isinstance(exc, DomainError):
        reason = exc.message
    else:
        log.exception("collection %s: %s failed%s", run.collection_id, step, where)
        reason = f"{type(exc).__name__}: {exc}"
    message = f"{STEP_LABEL[step]} failed{where}: {reason}"
    db.session.rollback()
    for f in _placeholders_of(run.collection_id, key).values():
        placeholder_fail(f, message)
    db.session.commit()
    collections.fail(run.collection_id, step, message)


def _summary(collection_id: int) -> str:
    rows = db.session.execute(select(CollectionItem.reused).where(CollectionItem.collection_id == collection_id)).all()
    reused = sum(1 for (r,) in rows if r)
    made = len(rows) - reused
    return f"Done: {made} made, {reused} reused (0 credits)" if reused else f"Done: {made} made"


# --- one unit -------------------------------------------------------------------------------------

def _position(run: Run, step: str, photo: units.Photo | None, k: int) -> int:
    return run.steps.index(step) * 100_000 + (photo.position * 100 if photo else 0) + k


def _run_unit(run: Run, step: str, photo: units.Photo | None, key: str) -> None:
    planned = units.plan(step, run.ctx, photo)
    if not run.force and _reuse(run, step, photo, key, planned):
        return
    ids = _start_placeholders(run, step, photo, key, planned)
    made = units.render(step, run.ctx, photo, planned)
    cost = credit_cost(run.org_id, planned[0].file_type)
    for p in planned:
        f = db.session.get(TechFile, ids[p.category])
        new = made.get(p.category)
        if new is None:  # fewer detailed regions than asked for: this one was never a file
            _drop([f.id])
            continue
        new.batch_id, new.credits = run.batch_id, cost
        placeholder_complete(f, new, reason=f"collection #{run.collection_id}")
    commit_versions()


def _reuse(run: Run, step: str, photo: units.Photo | None, key: str, planned: list[units.Planned]) -> bool:
    """Take the slots' current files when they are what this unit would make (no charge)."""
    current = []
    for p in planned:
        f = latest_in_slot((run.org_id, run.product_id, run.revision, p.file_type, p.view, p.category))
        if f is None or f.status != FileStatus.COMPLETED or f.fingerprint != p.fingerprint:
            db.session.rollback()
            return False
        current.append(f)
    stale = [f.id for f in _placeholders_of(run.collection_id, key).values()]
    if stale:  # an earlier attempt's placeholders: never files, they go
        _drop(stale)
    for k, f in enumerate(current):
        db.session.add(CollectionItem(organisation_id=run.org_id, collection_id=run.collection_id, tech_file_id=f.id,
                                      section=step, position=_position(run, step, photo, k), unit_key=key,
                                      reused=True))
    db.session.commit()
    return True


def _drop(file_ids: list[int]) -> None:
    db.session.execute(delete(CollectionItem).where(CollectionItem.tech_file_id.in_(file_ids)))
    db.session.execute(delete(TechFile).where(TechFile.id.in_(file_ids)))


def _placeholders_of(collection_id: int, key: str) -> dict[str, TechFile]:
    rows = db.session.scalars(select(TechFile).join(CollectionItem, CollectionItem.tech_file_id == TechFile.id).where(
        CollectionItem.collection_id == collection_id, CollectionItem.unit_key == key,
        TechFile.status.in_(PENDING)))
    return {f.category: f for f in rows}


def _start_placeholders(run: Run, step: str, photo: units.Photo | None, key: str,
                        planned: list[units.Planned]) -> dict[str, int]:
    """A processing file per planned slot (a failed one of an earlier attempt is made again)."""
    existing = _placeholders_of(run.collection_id, key)
    ids = {}
    for k, p in enumerate(planned):
        f = existing.get(p.category)
        if f is not None:
            placeholder_restart(f, p.fingerprint)
        else:
            f = placeholder_create(org_id=run.org_id, product_id=run.product_id, revision=run.revision,
                                   file_type=p.file_type, view=p.view, category=p.category, batch_id=run.batch_id,
                                   by_id=run.by_id, fingerprint=p.fingerprint)
            db.session.add(CollectionItem(organisation_id=run.org_id, collection_id=run.collection_id,
                                          tech_file_id=f.id, section=step, position=_position(run, step, photo, k),
                                          unit_key=key))
        ids[p.category] = f.id
    db.session.commit()
    return ids
