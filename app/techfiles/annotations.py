"""What people add to files: callouts and measurements on sketches, shot names, scale references.

None of these costs credits. Each redraws the affected sketch from its clean lines as a new
version: the automatic callouts (one per close-up, with the close-up's name) and measurement
lines (numbers only once a reference length is known) plus the person's own drawing.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from PIL import Image
from sqlalchemy import select

from app.core import ai, audit, storage
from app.core.errors import InvalidInput
from app.extensions import db
from app.pipeline.models import ProductImage
from app.techfiles import generators, measurements, selectors, units
from app.techfiles.models import FileStatus, FileType, ScaleReference, TechFile, TechFileVersion
from app.techfiles.versions import NewFile, add_version, commit_versions, load_file, snapshot

MAX_ANNOTATIONS = 30


def parse_annotations(text: str) -> tuple[list[dict], list[dict]]:
    """Lines `callout: x, y, text` and `measure: x1, y1, x2, y2, label, value` (coordinates in %)."""
    callouts, measures = [], []
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
                coords, target = (x1, y1, x2, y2), measures
            else:
                raise ValueError
        except ValueError:
            raise InvalidInput(f"Line {number} is not understood: write `callout: x, y, text` or "
                               "`measure: x1, y1, x2, y2, label, value` with positions in % (0–100).",
                               field="annotations") from None
        if not all(0 <= c <= 100 for c in coords):
            raise InvalidInput(f"Line {number}: positions are percentages between 0 and 100.", field="annotations")
        target.append(item)
    if len(callouts) + len(measures) > MAX_ANNOTATIONS:
        raise InvalidInput(f"At most {MAX_ANNOTATIONS} callouts and measurements per sketch.", field="annotations")
    return callouts, measures


def _manual(items: list[dict] | None) -> list[dict]:
    return [i for i in items or [] if not i.get("auto")]


@dataclass
class _Redraw:
    """A sketch to draw again: its row, clean lines and the drawing to put on them."""

    sketch: TechFile
    clean_sha: str
    callouts: list[dict]
    measures: list[dict]
    fingerprint: str | None = None


def _store(r: _Redraw, extra: dict | None) -> NewFile:
    f = r.sketch
    with Image.open(storage.open_path(r.clean_sha)) as lines:
        drawn = generators.annotate(lines, r.callouts, r.measures)
    out = io.BytesIO()
    drawn.save(out, "PNG", optimize=True)
    stored = storage.save_bytes(out.getvalue())
    analysis = {**(f.analysis or {}), "callouts": r.callouts, "measurements": r.measures}
    if extra is not None:
        analysis["scale_reference"] = extra.get("scale")
    return NewFile(sha256=stored.sha256, mime="image/png", width=drawn.width, height=drawn.height,
                   generator=f.generator, model=f.model, analysis=analysis,
                   meta={**(f.meta or {}), "clean_sha256": r.clean_sha}, parameters=f.parameters,
                   confidence=f.confidence, quality=f.quality, source_image_id=f.source_image_id,
                   fingerprint=r.fingerprint or f.fingerprint)


def sketch_annotate(*, org_id: int, file_id: int, annotations: str, by, reason: str | None = None) -> TechFile:
    """Draw a person's callouts and measurements on a sketch's clean lines: a new version, no credits."""
    f = load_file(org_id, file_id)
    if f.file_type != FileType.SKETCH or f.sha256 is None:
        raise InvalidInput("Only sketches take callouts and measurements.")
    callouts, measures = parse_annotations(annotations)
    analysis = f.analysis or {}
    auto_c = [c for c in analysis.get("callouts") or [] if c.get("auto")]
    auto_m = [m for m in analysis.get("measurements") or [] if m.get("auto")]
    clean = (f.meta or {}).get("clean_sha256") or f.sha256
    new = _store(_Redraw(f, clean, auto_c + callouts, auto_m + measures), None)
    row = add_version(org_id=org_id, product_id=f.product_id, revision=f.revision, file_type=f.file_type,
                      view=f.view, category=f.category, new=new, by_id=by.id, action="annotated",
                      reason=reason or f"{len(callouts)} callouts, {len(measures)} measurements")
    commit_versions()
    return row


# --- redrawing sketches when their names or scale change --------------------------------------

def _sketch_extra(org_id: int, product_id: int, revision: str, view: str, scale: dict | None,
                  labels: dict | None = None) -> dict:
    if labels is None:
        labels = selectors.close_up_labels(org_id, product_id, revision, view)
    return {"scale": scale, "labels": labels}


def _redraws(org_id: int, image: ProductImage, scale: dict | None, labels: dict[str, dict] | None) -> list[tuple]:
    """(redraw, extra) for every latest sketch of the photo, with the given scale and names."""
    out = []
    photo = units.Photo(image.id, image.sha256, image.position, image.filename)
    opened = None
    for sketch in selectors.latest_sketches_of(org_id, image.id):
        clean = (sketch.meta or {}).get("clean_sha256")
        if not clean:
            continue  # an uploaded drawing: nothing known about where the object is
        extra = _sketch_extra(org_id, sketch.product_id, sketch.revision, sketch.view, scale,
                              (labels or {}).get(sketch.revision))
        opened = opened or rendering_open(photo.sha256)
        auto_c, auto_m = units.auto_annotations(opened, sketch.meta or {}, sketch.analysis or {}, extra)
        analysis = sketch.analysis or {}
        ctx = units.Context(org_id, sketch.product_id, sketch.revision, ai.Served(org_id))
        planned = units.plan("sketches", ctx, photo, sketch.parameters, extra=extra)[0]
        redraw = _Redraw(sketch, clean, auto_c + _manual(analysis.get("callouts")),
                         auto_m + _manual(analysis.get("measurements")),
                         units.stamp(planned.inputs, sketch.generator, sketch.model or ""))
        out.append((redraw, extra))
    return out


def rendering_open(sha256: str) -> Image.Image:
    from app.techfiles.rendering import open_photo

    return open_photo(sha256)


def _write_redraws(redraws: list[tuple], by_id: int | None, reason: str) -> list[TechFile]:
    rows = []
    for redraw, extra in redraws:
        s = redraw.sketch
        new = _store(redraw, extra)
        rows.append(add_version(org_id=s.organisation_id, product_id=s.product_id, revision=s.revision,
                                file_type=s.file_type, view=s.view, category=s.category, new=new, by_id=by_id,
                                action="measured", reason=reason))
    return rows


def _number(value, field: str, label: str, low: float, high: float) -> float:
    try:
        number = float(str(value).strip().replace(",", "."))
    except (TypeError, ValueError):
        raise InvalidInput(f"{label} must be a number.", field=field) from None
    if not low <= number <= high:
        raise InvalidInput(f"{label} must be between {low:g} and {high:g}.", field=field)
    return number


def _reference_input(f: TechFile, points: dict, length, unit: str, label: str) -> tuple:
    if f.file_type != FileType.BASE_VIEW or f.source_image_id is None or f.status != FileStatus.COMPLETED:
        raise InvalidInput("A reference length is entered on a generated base view.")
    placement = measurements.Placement.of(f.meta or {})
    if placement is None or str(f.generator).startswith("image-model"):
        raise InvalidInput("This base view does not record how it was cut from the photo; regenerate it first.")
    x1, y1, x2, y2 = (_number(points.get(k), k, k.upper(), 0, 100) for k in ("x1", "y1", "x2", "y2"))
    if abs(x1 - x2) + abs(y1 - y2) < 1:
        raise InvalidInput("The two ends of the known length must be apart.", field="x2")
    try:
        amount = Decimal(str(length).strip().replace(",", ".")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput("The known length must be a number, such as 45.", field="length") from None
    if not Decimal("0.01") <= amount <= Decimal("100000"):
        raise InvalidInput("The known length must be between 0.01 and 100000.", field="length")
    if unit not in measurements.UNITS:
        raise InvalidInput(f"Choose a unit: {', '.join(measurements.UNITS)}.", field="unit")
    label = (label or "").strip()[:80]
    if not label:
        raise InvalidInput("Say what the length is, such as Chain length.", field="label")
    (px1, py1), (px2, py2) = placement.to_photo(x1, y1), placement.to_photo(x2, y2)
    return {"x1": px1, "y1": py1, "x2": px2, "y2": py2, "length": amount, "unit": unit, "label": label}


def scale_reference_set(*, org_id: int, file_id: int, points: dict, length, unit: str, label: str,
                        by) -> list[TechFile]:
    """Record one known length on a base view; the photo's sketches are measured from it (free)."""
    f = load_file(org_id, file_id)
    ref = _reference_input(f, points, length, unit, label)
    image = db.session.get(ProductImage, f.source_image_id)
    scale = {**ref, "length": str(ref["length"])}
    redraws = _redraws(org_id, image, scale, None)
    db.session.commit()  # the image work above only read
    row = db.session.scalar(select(ScaleReference).where(ScaleReference.organisation_id == org_id,
                                                         ScaleReference.source_image_id == image.id))
    before = row.as_dict() if row else None
    if row is None:
        row = ScaleReference(organisation_id=org_id, product_id=f.product_id, source_image_id=image.id,
                             created_by_id=by.id, **ref)
        db.session.add(row)
    else:
        for key, value in ref.items():
            setattr(row, key, value)
    audit.record(org_id=org_id, actor_id=by.id, action="techfiles.scale_reference", object_type="product_image",
                 object_id=image.id, before=before, after=scale)
    rows = _write_redraws(redraws, by.id, f"reference length: {ref['label']} {ref['length']} {ref['unit']}")
    commit_versions()
    return rows


def file_rename(*, org_id: int, file_id: int, label: str, by, reason: str | None = None) -> TechFile:
    """Name a shot ("clasp"); later versions keep the name; the photo's sketch callouts follow (free)."""
    f = load_file(org_id, file_id)
    label = (label or "").strip()[:80] or None
    if f.file_type != FileType.CLOSE_UP:
        raise InvalidInput("Only close-ups are named; other files are named by their view.", field="label")
    current = f if f.is_latest else selectors.current_of(f)
    if current is None:
        raise InvalidInput("This shot is archived; restore it before naming it.", field="label")
    labels = selectors.close_up_labels(org_id, f.product_id, f.revision, f.view)
    labels = {k: v for k, v in labels.items() if k != f.category} | ({f.category: label} if label else {})
    image = db.session.get(ProductImage, f.source_image_id) if f.source_image_id else None
    ref = selectors.scale_reference_for(org_id, image.id) if image else None
    redraws = [r for r in (_redraws(org_id, image, ref.as_dict() if ref else None, {f.revision: labels})
                           if image else []) if r[0].sketch.revision == f.revision and r[0].sketch.view == f.view]
    db.session.commit()
    current = db.session.get(TechFile, current.id)
    current.label = label
    db.session.add(TechFileVersion(organisation_id=org_id, product_id=f.product_id, tech_file_id=current.id,
                                   version=current.version, action="renamed", reason=reason or (label or "name removed"),
                                   snapshot=snapshot(current), created_by_id=by.id))
    _write_redraws(redraws, by.id, f"close-up named {label or 'by its position'}")
    commit_versions()
    return current
