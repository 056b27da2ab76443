"""The one way a tech file version is added, and the life of a file a run is making.

Every change to a slot adds a version: the previous latest stops being latest, and a
TechFileVersion row records who, when, why and a snapshot. The partial unique index makes a
concurrent second "latest" fail; that surfaces as a Conflict asking the person to reload.

A run first writes a *placeholder* per file it is about to make (status processing, not yet
latest), so the pages show what is being made; the placeholder then becomes the completed,
latest version, or failed with the reason (a retry makes it processing again). Statuses only
move through FileStatus.check.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import Conflict, NotFound
from app.core.events import publish_after_commit
from app.core.models import utcnow
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.pipeline.models import Product
from app.techfiles.models import SLOT_COLUMNS, FileStatus, FileType, TechFile, TechFileVersion

FILES_EVENT = "techfiles-changed"


def load_file(org_id: int, file_id: int) -> TechFile:
    row = db.session.get(TechFile, file_id)
    if row is None or row.organisation_id != org_id:
        raise NotFound("There is no such tech file in your organisation.")
    return row


def load_product(org_id: int, product_id: int) -> Product:
    row = db.session.get(Product, product_id)
    if row is None or row.organisation_id != org_id:
        raise NotFound("There is no such product in your organisation.")
    return row


def snapshot(f: TechFile) -> dict:
    """Everything that describes a file version, as plain JSON."""
    return {
        "id": f.id, "version": f.version, "status": f.status.value, "file_type": f.file_type.value,
        "view": f.view, "category": f.category, "revision": f.revision, "sha256": f.sha256,
        "mime": f.mime, "width": f.width, "height": f.height, "generator": f.generator, "model": f.model,
        "parameters": f.parameters, "batch_id": f.batch_id, "credits": str(f.credits),
        "confidence": f.confidence, "quality": f.quality, "parent_id": f.parent_id,
        "source_image_id": f.source_image_id, "analysis": f.analysis, "metadata": f.meta,
        "fingerprint": f.fingerprint, "duration_ms": f.duration_ms, "label": f.label,
    }


def _slot_where(slot: tuple):
    return tuple(getattr(TechFile, c) == v for c, v in zip(SLOT_COLUMNS, slot, strict=True))


def latest_in_slot(slot: tuple) -> TechFile | None:
    query = select(TechFile).where(*_slot_where(slot), TechFile.is_latest.is_(True))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalar(query)


def next_version(slot: tuple) -> int:
    top = db.session.scalar(select(func.max(TechFile.version)).where(*_slot_where(slot)))
    return (top or 0) + 1


def set_status(f: TechFile, new: FileStatus) -> None:
    """Move a file to another status, if the table of moves allows it."""
    FileStatus.check(f.status, new)
    f.status = FileStatus(new)


@dataclass
class NewFile:
    """What goes into a new version besides its slot."""

    sha256: str | None
    mime: str | None
    width: int | None
    height: int | None
    generator: str
    model: str | None = None
    analysis: dict | None = None
    meta: dict | None = None
    parameters: dict | None = None
    confidence: int | None = None
    quality: int | None = None
    credits: Decimal = Decimal("0")
    source_image_id: int | None = None
    batch_id: str | None = None
    status: FileStatus = FileStatus.COMPLETED
    fingerprint: str | None = None
    duration_ms: int | None = None
    label: str | None = None


def _changed(f: TechFile, refresh_pack: bool) -> None:
    publish_after_commit(f.organisation_id, FILES_EVENT, {"product_id": f.product_id})
    if refresh_pack and f.file_type != FileType.COMPLETE_PACK:
        from app.techfiles.tasks import refresh_pack as job

        enqueue_after_commit(job, f.organisation_id, f.product_id, f.revision, org_id=f.organisation_id)


def _history(f: TechFile, action: str, reason: str | None, by_id: int | None) -> None:
    db.session.add(TechFileVersion(organisation_id=f.organisation_id, product_id=f.product_id, tech_file_id=f.id,
                                   version=f.version, action=action, reason=reason, snapshot=snapshot(f),
                                   created_by_id=by_id))


def add_version(*, org_id: int, product_id: int, revision: str, file_type: FileType, view: str, category: str,
                new: NewFile, by_id: int | None, action: str, reason: str | None = None,
                refresh_pack: bool = True) -> TechFile:
    """Add a version to a slot (no commit): the old latest steps down, a history row is written.

    The person's name for the shot carries over; the slot's complete pack is brought up to date
    after commit (a job), unless the caller does that itself."""
    slot = (org_id, product_id, revision, FileType(file_type), view or "", category or "")
    current = latest_in_slot(slot)
    if current is not None:
        current.is_latest = False
        db.session.flush()  # the old row must step down before the new latest is inserted
    fields = dict(new.__dict__)
    if fields.get("label") is None and current is not None:
        fields["label"] = current.label
    row = TechFile(organisation_id=org_id, product_id=product_id, revision=revision, file_type=FileType(file_type),
                   view=view or "", category=category or "", version=next_version(slot), is_latest=True,
                   parent_id=current.id if current else None, created_by_id=by_id, **fields)
    db.session.add(row)
    db.session.flush()
    _history(row, action, reason, by_id)
    _changed(row, refresh_pack)
    return row


def commit_versions() -> None:
    """Commit, turning a lost race for "latest" into a Conflict."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Someone changed this file at the same moment. Reload the page and try again.") from None


# --- placeholders: files a run is making ------------------------------------------------------

def placeholder_create(*, org_id: int, product_id: int, revision: str, file_type: FileType, view: str,
                       category: str, batch_id: str, by_id: int | None, fingerprint: str) -> TechFile:
    """A processing file in a slot, not yet latest (no commit)."""
    slot = (org_id, product_id, revision, FileType(file_type), view or "", category or "")
    row = TechFile(organisation_id=org_id, product_id=product_id, revision=revision, file_type=FileType(file_type),
                   view=view or "", category=category or "", version=next_version(slot), is_latest=False,
                   status=FileStatus.PROCESSING, generator="pending", batch_id=batch_id, credits=Decimal("0"),
                   fingerprint=fingerprint, created_by_id=by_id)
    db.session.add(row)
    db.session.flush()
    publish_after_commit(org_id, FILES_EVENT, {"product_id": product_id})
    return row


def placeholder_restart(f: TechFile, fingerprint: str) -> None:
    """A failed placeholder of the same run is made again (no commit)."""
    if f.status != FileStatus.PROCESSING:
        set_status(f, FileStatus.PROCESSING)
    f.error, f.fingerprint = None, fingerprint


def placeholder_complete(f: TechFile, new: NewFile, *, reason: str | None) -> TechFile:
    """The placeholder becomes the slot's completed, latest version (no commit)."""
    current = latest_in_slot(f.slot)
    if current is not None and current.id != f.id:
        current.is_latest = False
        db.session.flush()
        if current.version > f.version:  # the slot moved on while this file was being made
            f.version = next_version(f.slot)
    set_status(f, FileStatus.COMPLETED)
    label = f.label or (current.label if current is not None else None)
    for key, value in new.__dict__.items():
        if key not in ("status", "batch_id", "label"):
            setattr(f, key, value)
    f.label, f.is_latest, f.error = label, True, None
    f.parent_id = current.id if current is not None and current.id != f.id else f.parent_id
    f.created_at = utcnow()
    db.session.flush()
    _history(f, "generated", reason, f.created_by_id)
    _changed(f, refresh_pack=False)
    return f


def placeholder_fail(f: TechFile, error: str) -> None:
    """The file could not be made: failed, with the reason a person reads (no commit)."""
    if f.status == FileStatus.PROCESSING:
        set_status(f, FileStatus.FAILED)
    f.error = error[:2000]
    publish_after_commit(f.organisation_id, FILES_EVENT, {"product_id": f.product_id})
