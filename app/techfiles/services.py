"""Business actions on tech files: credits, regenerate, replace, rollback, archive, compare.

Every change to a slot adds a version (app.techfiles.versions); image work happens outside any
open transaction so a slow photo never holds SQLite's write lock. Drawing on sketches, shot
names and scale references are in app.techfiles.annotations.
"""
from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from app.analysis.images import ImageRejected, open_image_checked
from app.core import ai, audit, storage
from app.core.errors import Conflict, InvalidInput
from app.core.events import publish_after_commit
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.pipeline.models import ProductImage
from app.techfiles import generators, units
from app.techfiles.annotations import (  # noqa: F401  (part of this module's interface)
    file_rename,
    parse_annotations,
    scale_reference_set,
    sketch_annotate,
)
from app.techfiles.models import (
    DEFAULT_COSTS,
    DEFAULT_CREDITS,
    STEP_FILE_TYPE,
    CreditCost,
    FileStatus,
    FileType,
    TechFile,
    TechFileVersion,
)
from app.techfiles.rendering import (  # noqa: F401  (part of this module's interface)
    GENERATOR_KIND,
    open_photo,
    parse_params,
    render,
    store_rendered,
    with_image_model,
)
from app.techfiles.versions import (  # noqa: F401  (part of this module's interface)
    FILES_EVENT,
    NewFile,
    add_version,
    commit_versions,
    latest_in_slot,
    load_file,
    load_product,
    set_status,
    snapshot,
)

TYPE_STEP = {t: step for step, t in STEP_FILE_TYPE.items()}


# --- credits ----------------------------------------------------------------------------------

def credit_cost(org_id: int, file_type: FileType) -> Decimal:
    """Credits one generated file of this type costs the organisation."""
    row = db.session.scalar(select(CreditCost).where(CreditCost.organisation_id == org_id,
                                                     CreditCost.file_type == FileType(file_type)))
    return row.credits if row is not None else DEFAULT_COSTS.get(FileType(file_type), DEFAULT_CREDITS)


def credit_cost_set(*, org_id: int, file_type: str, credits: str, by) -> CreditCost:
    """Set what one generated file of a type costs (applies to files generated from now on)."""
    try:
        kind = FileType(file_type)
        amount = Decimal(str(credits).strip()).quantize(Decimal("0.01"))
    except (ValueError, InvalidOperation):
        raise InvalidInput("Give a file type and a number of credits such as 1 or 0.5.", field="credits") from None
    if amount < 0 or amount > Decimal("10000"):
        raise InvalidInput("Credits must be between 0 and 10000.", field="credits")
    row = db.session.scalar(select(CreditCost).where(CreditCost.organisation_id == org_id,
                                                     CreditCost.file_type == kind))
    before = {"credits": str(row.credits)} if row else None
    if row is None:
        row = CreditCost(organisation_id=org_id, file_type=kind, credits=amount)
        db.session.add(row)
    row.credits = amount
    audit.record(org_id=org_id, actor_id=by.id, action="techfiles.cost_set", object_type="tech_credit_cost",
                 object_id=kind.value, before=before, after={"credits": str(amount)})
    db.session.commit()
    return row


# --- actions ----------------------------------------------------------------------------------

def _photo_of(f: TechFile) -> units.Photo | None:
    if f.file_type not in GENERATOR_KIND:
        return None
    image = db.session.get(ProductImage, f.source_image_id) if f.source_image_id else None
    if image is None:
        raise InvalidInput("The photo this file was made from is gone; upload a replacement instead.")
    return units.Photo(image.id, image.sha256, image.position, image.filename)


def _regenerate_params(f: TechFile, params: dict | None) -> dict | None:
    if f.file_type not in GENERATOR_KIND:
        return None
    merged = {**(f.parameters or {}), **parse_params(f.file_type, params)}
    merged.pop("prompt", None)
    if f.file_type == FileType.CLOSE_UP and f.category.startswith("region-"):
        rank = int(f.category.rsplit("-", 1)[-1])
        merged["count"] = max(rank, int(merged.get("count") or generators.DEFAULTS["close_up"]["count"]))
    return merged


def file_regenerate(*, org_id: int, file_id: int, by, params: dict | None = None,
                    reason: str | None = None) -> TechFile:
    """Make the file's slot again, even when nothing changed: a new, charged, latest version."""
    f = load_file(org_id, file_id)
    photo, merged, step = _photo_of(f), _regenerate_params(f, params), TYPE_STEP[f.file_type]
    ctx = units.Context(org_id, f.product_id, f.revision, ai.Served(org_id, "tech_file", f.id, "product", f.product_id))
    planned = units.plan(step, ctx, photo, merged)
    if photo is not None:  # the same slot, even if the photos were put in another order since
        planned = [units.Planned(p.file_type, f.view, p.category, p.fingerprint, p.inputs)
                   for p in planned if p.category == f.category]
    by_id, file_type = by.id, f.file_type
    db.session.commit()  # end the read before the image work
    made = units.render(step, ctx, photo, planned, merged)
    target = planned[0] if planned else None
    new = made.get(target.category) if target else None
    if new is None:
        raise InvalidInput(f"The photo has no {f.shot_name} with these settings.")
    new.credits = credit_cost(org_id, file_type)
    row = add_version(org_id=org_id, product_id=ctx.product_id, revision=ctx.revision, file_type=file_type,
                      view=target.view, category=target.category, new=new, by_id=by_id, action="regenerated",
                      reason=reason)
    commit_versions()
    return row


def file_replace(*, org_id: int, file_id: int, data: bytes, filename: str, by, reason: str | None = None) -> TechFile:
    """Upload a replacement image for a slot: a new latest version, no credits charged."""
    f = load_file(org_id, file_id)
    if f.file_type == FileType.COMPLETE_PACK:
        raise InvalidInput("The complete pack is made from its files: replace those, and it follows.", field="file")
    try:
        with open_image_checked(io.BytesIO(data), formats=("JPEG", "PNG", "WEBP")) as image:
            fmt, size = image.format, image.size
            if fmt == "WEBP":  # the PDF export embeds JPEG and PNG only
                out = io.BytesIO()
                generators.flatten(image).save(out, "PNG")
                data, fmt = out.getvalue(), "PNG"
    except ImageRejected as exc:
        raise InvalidInput(f"{filename or 'The file'}: {exc.reason}.", field="file") from None
    stored = storage.save_bytes(data)
    new = NewFile(sha256=stored.sha256, mime="image/jpeg" if fmt == "JPEG" else "image/png", width=size[0],
                  height=size[1], generator="upload", meta={"filename": (filename or "")[:255]},
                  analysis=f.analysis if f.file_type == FileType.SKETCH else None,
                  source_image_id=f.source_image_id)
    row = add_version(org_id=org_id, product_id=f.product_id, revision=f.revision, file_type=f.file_type,
                      view=f.view, category=f.category, new=new, by_id=by.id, action="replaced", reason=reason)
    commit_versions()
    return row


def file_rollback(*, org_id: int, file_id: int, by, reason: str | None = None) -> TechFile:
    """Make an old version current again by adding a new version equal to it (no credits)."""
    old = load_file(org_id, file_id)
    if old.sha256 is None:
        raise InvalidInput("That version has no stored image to go back to.")
    if old.is_latest:
        raise Conflict("That version is already the latest.")
    meta = {**(old.meta or {}), "rolled_back_from": old.version}
    new = NewFile(sha256=old.sha256, mime=old.mime, width=old.width, height=old.height, generator=old.generator,
                  model=old.model, analysis=old.analysis, meta=meta, parameters=old.parameters,
                  confidence=old.confidence, quality=old.quality, source_image_id=old.source_image_id)
    row = add_version(org_id=org_id, product_id=old.product_id, revision=old.revision, file_type=old.file_type,
                      view=old.view, category=old.category, new=new, by_id=by.id, action="rolled_back",
                      reason=reason or f"back to v{old.version}")
    commit_versions()
    return row


def file_archive(*, org_id: int, file_id: int, by, reason: str | None = None) -> TechFile:
    """Soft-delete a version: it leaves the gallery (and the slot has no latest until a rollback)."""
    f = load_file(org_id, file_id)
    if f.status == FileStatus.ARCHIVED:
        raise Conflict("That file is already archived.")
    if not f.status.can_become(FileStatus.ARCHIVED):
        raise Conflict(f"A file that is {f.status.label.lower()} cannot be archived; wait until it is made.")
    set_status(f, FileStatus.ARCHIVED)
    f.is_latest = False
    db.session.add(TechFileVersion(organisation_id=org_id, product_id=f.product_id, tech_file_id=f.id,
                                   version=f.version, action="archived", reason=reason, snapshot=snapshot(f),
                                   created_by_id=by.id))
    publish_after_commit(org_id, FILES_EVENT, {"product_id": f.product_id})
    if f.file_type != FileType.COMPLETE_PACK:
        from app.techfiles.tasks import refresh_pack

        enqueue_after_commit(refresh_pack, org_id, f.product_id, f.revision, org_id=org_id)
    db.session.commit()
    return f
