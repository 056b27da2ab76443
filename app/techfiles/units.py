"""Units of work: what one step makes for one photo (or for the product), planned then rendered.

`plan` names the slots a unit fills and the fingerprint each file would have, without making
anything, so a run can see that the current files are already what it would make. `render`
makes the files (outside any transaction; the caller stores them). Per-photo steps are base
views, close-ups and sketches; the category sheet and the complete pack are one unit each.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from app.core import ai, storage
from app.core.errors import InvalidInput
from app.techfiles import generators, image_model, measurements, selectors, sheets
from app.techfiles.fingerprints import fingerprint
from app.techfiles.models import STEP_FILE_TYPE, FileType
from app.techfiles.rendering import GENERATOR_KIND, open_photo, store_rendered, with_image_model
from app.techfiles.versions import NewFile

PACK_VERSION = "pack-1"  # the complete pack's layout: a new one prints every pack again


@dataclass(frozen=True)
class Photo:
    id: int
    sha256: str
    position: int
    filename: str


@dataclass(frozen=True)
class Context:
    org_id: int
    product_id: int
    revision: str
    served: ai.Served


@dataclass(frozen=True)
class Planned:
    file_type: FileType
    view: str
    category: str
    fingerprint: str
    inputs: dict  # what the fingerprint was made of, less the generator (see `stamp`)


def unit_key(step: str, photo: Photo | None) -> str:
    return f"{step}:{photo.id}" if photo is not None else step


def _generator(kind: str) -> tuple[str, str]:
    """The generator a file of this kind would come from now: the image model when it is on."""
    planned = image_model.planned(kind)
    return planned if planned else (f"stockroom.{kind}", generators.GENERATOR_VERSION)


def stamp(inputs: dict, generator: str, version: str) -> str:
    return fingerprint(generator=generator, version=version, **inputs)


def _photo_inputs(file_type: FileType, photo: Photo, slot: str, params: dict, extra: dict | None = None) -> dict:
    return {"file_type": file_type.value, "slot": slot, "sources": [photo.sha256], "parameters": params,
            "extra": extra or {}}


def _sketch_extra(ctx: Context, photo: Photo, view: str) -> dict:
    ref = selectors.scale_reference_for(ctx.org_id, photo.id)
    labels = selectors.close_up_labels(ctx.org_id, ctx.product_id, ctx.revision, view)
    return {"scale": ref.as_dict() if ref else None, "labels": labels}


def plan(step: str, ctx: Context, photo: Photo | None, params: dict | None = None,
         extra: dict | None = None) -> list[Planned]:
    """The files a unit makes and their fingerprints (`extra`: a sketch's scale and names, if not the stored ones)."""
    file_type = STEP_FILE_TYPE[step]
    if step == "category":
        return [_plan_category(ctx)]
    if step == "complete_pack":
        return [_plan_pack(ctx)]
    kind = GENERATOR_KIND[file_type]
    merged = generators.params_for(kind, params)
    view = generators.view_for_position(photo.position)
    generator, version = _generator(kind)
    if file_type == FileType.CLOSE_UP:
        slots = [f"region-{k}" for k in range(1, max(1, min(6, int(merged["count"]))) + 1)]
        extra = None
    else:
        slots = [""]
        if file_type == FileType.SKETCH and extra is None:
            extra = _sketch_extra(ctx, photo, view)
    out = []
    for slot in slots:
        inputs = _photo_inputs(file_type, photo, f"{view}/{slot}", merged, extra)
        out.append(Planned(file_type, view, slot, stamp(inputs, generator, version), inputs))
    return out


def _plan_category(ctx: Context) -> Planned:
    name, entries = selectors.category_entries(ctx.org_id, ctx.product_id)
    inputs = {"file_type": FileType.CATEGORY.value, "slot": name, "sources": [e[1] or "" for e in entries],
              "parameters": {}, "extra": {"entries": [e[0].__dict__ for e in entries]}}
    return Planned(FileType.CATEGORY, "", name, stamp(inputs, "stockroom.category_sheet", sheets.SHEET_VERSION),
                   inputs)


def _plan_pack(ctx: Context) -> Planned:
    files = selectors.pack_files(ctx.org_id, ctx.product_id, ctx.revision)
    product = selectors.product_of(ctx.org_id, ctx.product_id)
    cover = {"title": product.title, "brand": product.brand, "model": product.model or product.hint_model,
             "gtin": product.gtin, "category": product.category, "condition": product.condition.value}
    inputs = {"file_type": FileType.COMPLETE_PACK.value, "slot": "", "sources": [f"{f.id}:{f.sha256}" for f in files],
              "parameters": {}, "extra": {"cover": cover}}
    return Planned(FileType.COMPLETE_PACK, "", "", stamp(inputs, "stockroom.pack_pdf", PACK_VERSION), inputs)


# --- rendering ----------------------------------------------------------------------------------

def render(step: str, ctx: Context, photo: Photo | None, planned: list[Planned],
           params: dict | None = None) -> dict[str, NewFile]:
    """Make the planned files: {slot category: NewFile} (a close-up region not found is absent)."""
    started = time.monotonic()
    if step == "category":
        made = {planned[0].category: _render_category(ctx, planned[0])}
    elif step == "complete_pack":
        made = {"": _render_pack(ctx, planned[0])}
    else:
        made = _render_photo(step, ctx, photo, planned, params)
    elapsed = int((time.monotonic() - started) * 1000)
    for new in made.values():
        new.duration_ms = max(1, elapsed // max(1, len(made)))
    return made


def _render_photo(step, ctx: Context, photo: Photo, planned: list[Planned], params) -> dict[str, NewFile]:
    file_type = STEP_FILE_TYPE[step]
    image = open_photo(photo.sha256)
    if file_type == FileType.CLOSE_UP:
        rendered = {r.category: r for r in generators.close_ups(image, params)}
    elif file_type == FileType.BASE_VIEW:
        rendered = {"": generators.base_view(image, params)}
    else:  # the model (when on) draws the lines; the callouts and measurements go on top of its drawing
        lines = with_image_model(generators.sketch(image, params), FileType.SKETCH, ctx.served)
        rendered = {"": measured_sketch(image, lines, planned[0].inputs["extra"])}
    made = {}
    for p in planned:
        r = rendered.get(p.category)
        if r is None:
            continue
        new = store_rendered(r, file_type, served=ctx.served, model=file_type != FileType.SKETCH)
        new.source_image_id = photo.id
        new.fingerprint = stamp(p.inputs, new.generator, new.model or "")
        made[p.category] = new
    return made


def measured_sketch(photo_image, r: generators.Rendered, extra: dict) -> generators.Rendered:
    """Draw the automatic callouts (close-up regions) and measurement lines on a sketch's clean lines."""
    callouts, lines = auto_annotations(photo_image, r.meta, r.analysis, extra)
    clean = storage.save_bytes(r.encode())
    r.image = generators.annotate(r.image, callouts, lines)
    r.meta = {**r.meta, "clean_sha256": clean.sha256}
    r.analysis = {**r.analysis, "callouts": callouts, "measurements": lines,
                  "scale_reference": (extra or {}).get("scale")}
    return r


def auto_annotations(photo_image, meta: dict, analysis: dict, extra: dict) -> tuple[list[dict], list[dict]]:
    """Callouts at the close-up regions and the object's width and height (numbers only with a reference)."""
    placement = measurements.Placement.of(meta)
    analysis = analysis or {}
    obj = analysis.get("object") or (analysis.get("offline") or {}).get("object") or {}
    if placement is None or not obj.get("found"):
        return [], []
    regions, names, _obj = generators.close_up_regions(generators.flatten(photo_image))
    labels = (extra or {}).get("labels") or {}
    names = [labels.get(f"region-{r['rank']}") or n for r, n in zip(regions, names, strict=True)]
    scale = measurements.Scale.from_reference((extra or {}).get("scale"))
    return (measurements.auto_callouts(regions, names, placement),
            measurements.auto_measurements(obj["box"], placement, scale))


def _render_category(ctx: Context, p: Planned) -> NewFile:
    name, entries = selectors.category_entries(ctx.org_id, ctx.product_id)
    rendered = sheets.category_sheet(name, [e for e, _sha in entries])
    new = store_rendered(rendered, FileType.CATEGORY, served=ctx.served)
    new.fingerprint = p.fingerprint
    return new


def _render_pack(ctx: Context, p: Planned) -> NewFile:
    files = selectors.pack_files(ctx.org_id, ctx.product_id, ctx.revision)
    if not files:
        raise InvalidInput("There are no files to put in a complete pack yet.")
    from app.techfiles import pdf  # fpdf2 is loaded only where a pack is printed (60 MB)

    data = pdf.pack_pdf(selectors.product_of(ctx.org_id, ctx.product_id), ctx.revision, files)
    stored = storage.save_bytes(data)
    return NewFile(sha256=stored.sha256, mime="application/pdf", width=None, height=None,
                   generator="stockroom.pack_pdf", model=PACK_VERSION, fingerprint=p.fingerprint,
                   meta={"files": [f.id for f in files], "bytes": len(data)},
                   analysis={"files": len(files)})
