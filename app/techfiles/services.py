"""Business actions on tech files: record, regenerate, replace, rollback, archive, annotate, compare.

Every change to a slot adds a version: the previous latest stops being latest, and a
TechFileVersion row records who, when, why and a snapshot. The partial unique index makes a
concurrent second "latest" fail; that surfaces as a Conflict asking the person to reload.
Image work happens outside any open transaction so a slow photo never holds SQLite's write lock.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.analysis.images import ImageRejected, open_image_checked
from app.core import ai, audit, storage
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.extensions import db
from app.pipeline.models import Product, ProductImage
from app.techfiles import generators, image_model
from app.techfiles.models import (
    DEFAULT_CREDITS,
    SLOT_COLUMNS,
    CreditCost,
    FileStatus,
    FileType,
    TechFile,
    TechFileVersion,
)

FILES_EVENT = "techfiles-changed"
GENERATOR_KIND = {FileType.BASE_VIEW: "base_view", FileType.CLOSE_UP: "close_up", FileType.SKETCH: "sketch"}
MAX_ANNOTATIONS = 30


# --- credits ----------------------------------------------------------------------------------

def credit_cost(org_id: int, file_type: FileType) -> Decimal:
    """Credits one generated file of this type costs the organisation."""
    row = db.session.scalar(select(CreditCost).where(CreditCost.organisation_id == org_id,
                                                     CreditCost.file_type == FileType(file_type)))
    return row.credits if row is not None else DEFAULT_CREDITS


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


# --- loading ----------------------------------------------------------------------------------

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
    }


def latest_in_slot(slot: tuple) -> TechFile | None:
    query = select(TechFile).where(*(getattr(TechFile, c) == v for c, v in zip(SLOT_COLUMNS, slot, strict=True)),
                                   TechFile.is_latest.is_(True))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalar(query)


def _next_version(slot: tuple) -> int:
    top = db.session.scalar(select(func.max(TechFile.version)).where(
        *(getattr(TechFile, c) == v for c, v in zip(SLOT_COLUMNS, slot, strict=True))))
    return (top or 0) + 1


# --- the one way a version is added -----------------------------------------------------------

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


def add_version(*, org_id: int, product_id: int, revision: str, file_type: FileType, view: str, category: str,
                new: NewFile, by_id: int | None, action: str, reason: str | None = None) -> TechFile:
    """Add a version to a slot (no commit): the old latest steps down, a history row is written."""
    slot = (org_id, product_id, revision, FileType(file_type), view or "", category or "")
    current = latest_in_slot(slot)
    if current is not None:
        current.is_latest = False
        db.session.flush()  # the old row must step down before the new latest is inserted
    row = TechFile(organisation_id=org_id, product_id=product_id, revision=revision, file_type=FileType(file_type),
                   view=view or "", category=category or "", version=_next_version(slot), is_latest=True,
                   parent_id=current.id if current else None, created_by_id=by_id, **new.__dict__)
    db.session.add(row)
    db.session.flush()
    db.session.add(TechFileVersion(organisation_id=org_id, product_id=product_id, tech_file_id=row.id,
                                   version=row.version, action=action, reason=reason, snapshot=snapshot(row),
                                   created_by_id=by_id))
    publish_after_commit(org_id, FILES_EVENT, {"product_id": product_id})
    return row


def commit_versions() -> None:
    """Commit, turning a lost race for "latest" into a Conflict."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Someone changed this file at the same moment. Reload the page and try again.") from None


# --- rendering and storing --------------------------------------------------------------------

def with_image_model(rendered: generators.Rendered, file_type: FileType, served: ai.Served) -> generators.Rendered:
    """Hand the offline result to the external image model when one is configured for this type."""
    kind = GENERATOR_KIND[FileType(file_type)]
    image, info = image_model.try_apply(kind, rendered.image, served)
    if image is None:  # off, failed or over budget: the offline image stays, and says why when it matters
        rendered.analysis = {**rendered.analysis, "image_model": info} if info else rendered.analysis
        return rendered
    if file_type == FileType.BASE_VIEW:
        image = generators.centre_on_white(generators.flatten(image), rendered.meta.get("canvas", 1000), fill=1.0)
    score, quality = generators.measure_quality(image)
    # The model's picture is not what the offline measurements describe: keep them under "offline".
    return generators.Rendered(
        image, rendered.format, analysis={"offline": rendered.analysis, "quality": quality, "image_model": info},
        meta=rendered.meta, parameters={**rendered.parameters, "prompt": info["prompt"]}, confidence=None,
        quality=score, category=rendered.category, generator=f"image-model:{info['provider']}", model=info["model"])


def store_rendered(rendered: generators.Rendered, file_type: FileType, *, served: ai.Served) -> NewFile:
    """Store the image (and smaller standard sizes of a base view) and describe it."""
    rendered = with_image_model(rendered, file_type, served)
    data = rendered.encode()
    stored = storage.save_bytes(data)
    meta = dict(rendered.meta)
    if file_type == FileType.BASE_VIEW:
        smaller = [s for s in generators.BASE_SIZES if s < rendered.image.width]
        meta["renditions"] = {str(s): storage.save_bytes(generators.rendition(data, s)).sha256 for s in smaller}
    return NewFile(sha256=stored.sha256, mime=rendered.mime, width=rendered.image.width,
                   height=rendered.image.height,
                   generator=rendered.generator or f"stockroom.{GENERATOR_KIND[file_type]}",
                   model=rendered.model or generators.GENERATOR_VERSION, analysis=rendered.analysis, meta=meta,
                   parameters=rendered.parameters, confidence=rendered.confidence, quality=rendered.quality)


def open_photo(sha256: str) -> Image.Image:
    """A product photo from storage, checked and decoded."""
    try:
        return open_image_checked(storage.open_path(sha256))
    except FileNotFoundError:
        raise InvalidInput("The product photo is no longer in storage; upload it again.") from None
    except ImageRejected as exc:
        raise InvalidInput(f"The product photo cannot be read: {exc.reason}.") from None


def render(file_type: FileType, photo: Image.Image, params: dict | None, category: str = "") -> generators.Rendered:
    """Run the generator of a file type; for a close-up, the region named by `category`."""
    if file_type == FileType.BASE_VIEW:
        return generators.base_view(photo, params)
    if file_type == FileType.SKETCH:
        return generators.sketch(photo, params)
    if file_type == FileType.CLOSE_UP:
        rank = int(category.rsplit("-", 1)[-1]) if category.startswith("region-") else 1
        merged = {**(params or {}), "count": max(rank, int((params or {}).get("count") or 0))}
        found = generators.close_ups(photo, merged)
        match = next((r for r in found if r.category == category), None)
        if match is None:
            raise InvalidInput(f"The photo has no {category.replace('-', ' ')} with these settings.")
        return match
    raise InvalidInput(f"{FileType(file_type).label} files are not generated; upload a replacement instead.")


def _parse_params(file_type: FileType, raw: dict | None) -> dict:
    kind = GENERATOR_KIND.get(file_type)
    if kind is None:
        return {}
    out = {}
    for key, default in generators.DEFAULTS[kind].items():
        value = (raw or {}).get(key)
        if value in (None, ""):
            continue
        try:
            out[key] = float(value) if isinstance(default, float) or default is None else int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{key.replace('_', ' ').capitalize()} must be a number.", field=key) from None
    return out


# --- actions ----------------------------------------------------------------------------------

def file_regenerate(*, org_id: int, file_id: int, by, params: dict | None = None,
                    reason: str | None = None) -> TechFile:
    """Generate the file's slot again from its source photo: a new, charged, latest version."""
    f = load_file(org_id, file_id)
    if f.file_type not in GENERATOR_KIND:
        raise InvalidInput(f"{f.file_type.label} files are not generated; upload a replacement instead.")
    image = db.session.get(ProductImage, f.source_image_id) if f.source_image_id else None
    if image is None:
        raise InvalidInput("The photo this file was made from is gone; upload a replacement instead.")
    merged = {**(f.parameters or {}), **_parse_params(f.file_type, params)}
    slot, by_id, sha, source_id = f.slot, by.id, image.sha256, image.id
    db.session.commit()  # end the read before the image work
    rendered = render(slot[3], open_photo(sha), merged, slot[5])
    new = store_rendered(rendered, slot[3], served=ai.Served(org_id, "tech_file", file_id, "product", slot[1]))
    new.source_image_id, new.credits = source_id, credit_cost(org_id, slot[3])
    row = add_version(org_id=org_id, product_id=slot[1], revision=slot[2], file_type=slot[3], view=slot[4],
                      category=slot[5], new=new, by_id=by_id, action="regenerated", reason=reason)
    commit_versions()
    return row


def file_replace(*, org_id: int, file_id: int, data: bytes, filename: str, by, reason: str | None = None) -> TechFile:
    """Upload a replacement image for a slot: a new latest version, no credits charged."""
    f = load_file(org_id, file_id)
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
    f.status, f.is_latest = FileStatus.ARCHIVED, False
    db.session.add(TechFileVersion(organisation_id=org_id, product_id=f.product_id, tech_file_id=f.id,
                                   version=f.version, action="archived", reason=reason, snapshot=snapshot(f),
                                   created_by_id=by.id))
    publish_after_commit(org_id, FILES_EVENT, {"product_id": f.product_id})
    db.session.commit()
    return f


def parse_annotations(text: str) -> tuple[list[dict], list[dict]]:
    """Lines `callout: x, y, text` and `measure: x1, y1, x2, y2, label, value` (coordinates in %)."""
    callouts, measurements = [], []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        kind, _, rest = line.partition(":")
        parts = [p.strip() for p in rest.split(",")]
        try:
            if kind.strip().lower() == "callout" and len(parts) >= 3:
                x, y = float(parts[0]), float(parts[1])
                item = {"x": x, "y": y, "text": ",".join(parts[2:]).strip()[:80]}
                coords, target = (x, y), callouts
            elif kind.strip().lower() == "measure" and len(parts) >= 6:
                x1, y1, x2, y2 = (float(p) for p in parts[:4])
                item = {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "label": parts[4][:40],
                        "value": ",".join(parts[5:]).strip()[:40]}
                coords, target = (x1, y1, x2, y2), measurements
            else:
                raise ValueError
        except ValueError:
            raise InvalidInput(f"Line {number} is not understood: write `callout: x, y, text` or "
                               "`measure: x1, y1, x2, y2, label, value` with positions in % (0–100).",
                               field="annotations") from None
        if not all(0 <= c <= 100 for c in coords):
            raise InvalidInput(f"Line {number}: positions are percentages between 0 and 100.", field="annotations")
        target.append(item)
    if len(callouts) + len(measurements) > MAX_ANNOTATIONS:
        raise InvalidInput(f"At most {MAX_ANNOTATIONS} callouts and measurements per sketch.", field="annotations")
    return callouts, measurements


def sketch_annotate(*, org_id: int, file_id: int, annotations: str, by, reason: str | None = None) -> TechFile:
    """Draw callouts and measurements on a sketch's clean lines: a new version, no credits."""
    f = load_file(org_id, file_id)
    if f.file_type != FileType.SKETCH or f.sha256 is None:
        raise InvalidInput("Only sketches take callouts and measurements.")
    callouts, measurements = parse_annotations(annotations)
    clean = (f.meta or {}).get("clean_sha256") or f.sha256
    with Image.open(storage.open_path(clean)) as lines:
        drawn = generators.annotate(lines, callouts, measurements)
    out = io.BytesIO()
    drawn.save(out, "PNG", optimize=True)
    stored = storage.save_bytes(out.getvalue())
    analysis = {**(f.analysis or {}), "callouts": callouts, "measurements": measurements}
    new = NewFile(sha256=stored.sha256, mime="image/png", width=drawn.width, height=drawn.height,
                  generator=f.generator, model=f.model, analysis=analysis,
                  meta={**(f.meta or {}), "clean_sha256": clean}, parameters=f.parameters,
                  confidence=f.confidence, quality=f.quality, source_image_id=f.source_image_id)
    row = add_version(org_id=org_id, product_id=f.product_id, revision=f.revision, file_type=f.file_type,
                      view=f.view, category=f.category, new=new, by_id=by.id, action="annotated",
                      reason=reason or f"{len(callouts)} callouts, {len(measurements)} measurements")
    commit_versions()
    return row
