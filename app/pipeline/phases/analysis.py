"""Phase 1, analysis: barcodes, text, quality and near-duplicates per image, then identification.

Barcodes are read on the full-resolution original (downscaling loses EAN-13 bars); OCR uses
the process-wide engine (loaded once per worker); the confidence and its evidence come from
`app.pipeline.identify`. Per-image findings are stored on each ProductImage when the phase
completes.
"""
from __future__ import annotations

import time

from sqlalchemy import update

from app.analysis.barcodes import normalise_gtin, read_candidates
from app.analysis.duplicates import near_duplicates_among, perceptual_hash
from app.analysis.image_quality import assess_quality
from app.analysis.images import ImageInput, ImageRejected, give_back_freed_memory, load_image
from app.analysis.matching import CatalogueEntry
from app.analysis.printed_digits import read_codes
from app.analysis.providers import openai_compatible as vision_provider
from app.core import ai, storage
from app.core.models import utcnow
from app.extensions import db
from app.pipeline.catalogue import catalogue_version, known_for, read_items, read_products, read_rules
from app.pipeline.fields import FIELDS, apply_identification
from app.pipeline.identify import Inputs, Reference, identify
from app.pipeline.models import Product, ProductImage
from app.pipeline.phases import PhaseContext, PhaseOutcome

MIN_OCR_SIDE = 16  # a sliver thinner than this holds no legible line of text
# What the analysers spend per product, in the evidence (`timings_ms`): decoding the photos,
# barcodes, OCR, quality and the perceptual hash.
TIMINGS = ("decode_ms", "barcodes_ms", "ocr_ms", "quality_ms", "hash_ms")


def run(ctx: PhaseContext) -> PhaseOutcome:
    product = ctx.product
    images = [(img.id, img.sha256, img.filename) for img in product.images]
    per_image: dict[int, dict] = {}
    codes: list[dict] = []
    ocr_lines: list[dict] = []
    timings = dict.fromkeys(TIMINGS, 0.0)
    ocr_error = None
    for image_id, sha, filename in images:
        found, ocr_error = _analyse_one(sha, filename, timings, ocr_error)
        per_image[image_id] = found
        codes += [dict(c, image=filename) for c in found.get("barcodes", [])]
        ocr_lines += [dict(line, image=filename, width=found.get("width"), height=found.get("height"))
                      for line in found.get("ocr", [])]
        ctx.log("info", f"analysed {filename}", barcodes=[f"{c['text']} ({c['source']})" for c in found.get("barcodes", [])],
                ocr_lines=len(found.get("ocr", [])), quality=found.get("quality", {}).get("score"))
    if ocr_error:
        ctx.log("warning", f"OCR unavailable: {ocr_error}")
    known = known_for(ctx.org_id, exclude_product=product.id)
    catalogue = known.catalogue
    inputs = Inputs(codes=codes, ocr=ocr_lines, hint_name=product.hint_name, hint_model=product.hint_model,
                    vision=_ask_vision(ctx, images), catalogue=catalogue, rules=known.rules,
                    reference=_reference_for(ctx, codes), known_brands=_known_brands(catalogue, ocr_lines))
    found = identify(inputs)
    primary_hash = per_image.get(images[0][0], {}).get("phash") if images else None
    duplicates = [{"product_id": pid, "distance": d} for pid, d in near_duplicates_among(primary_hash, known.hashes)
                  ] if primary_hash else []
    applied = apply_identification(values={f: getattr(product, f) for f in FIELDS},
                                   sources=dict(product.field_sources or {}), found=found,
                                   threshold=ctx.review_threshold)
    evidence = found.evidence | {"path": found.path, "near_duplicates": duplicates, "timings_ms": timings,
                                 "catalogue_size": len(catalogue), "threshold": ctx.review_threshold}
    if duplicates:
        ctx.log("warning", "looks like an earlier product", near_duplicates=duplicates)
        applied.review_reasons += [] if applied.passes else ["near_duplicate"]
    status = "completed" if applied.passes else "needs_review"
    ctx.log("info", f"confidence {found.confidence} ({'passes' if applied.passes else 'below'} "
                    f"the threshold {ctx.review_threshold}): {evidence.get('reason', '')}",
            suggestions=len(applied.suggestions))
    result = {"identified": found.fields, "path": found.path, "confidence": found.confidence,
              "evidence": evidence, "images": {str(k): v for k, v in per_image.items()}}

    def write() -> None:
        write_image_analysis(product.id, per_image)

    return PhaseOutcome(status=status, result=result, write=write,
                        product=applied.values | {
                            "field_sources": applied.sources, "suggestions": applied.suggestions,
                            "review_reasons": applied.review_reasons, "confidence": found.confidence,
                            "confidence_source": "analysis", "evidence": evidence, "phash": primary_hash})


def warm() -> None:
    """This phase's SQL, compiled in the worker parent before it forks (app.pipeline.warm_sql): its
    reads for an organisation that does not exist, its writes against rows that do not."""
    from app.pipeline.warm_sql import compile_writes, existing
    from app.refdata import lookup

    catalogue_version(-1)  # not through known_for: its cache may already hold organisation -1
    read_items(-1)
    read_products(-1)
    read_products(-1, changed_since=utcnow())
    read_rules(-1)
    lookup.find(["0" * 14])
    lookup.brands_among(["warm-up"])
    db.session.rollback()

    def identified(fields: tuple[str, ...]):
        def write() -> None:  # as the runner applies `PhaseOutcome.product`: only the values that changed
            product = existing(Product(id=-1))
            for name in fields:
                setattr(product, name, "0")
            if fields:  # a field filled in changes where the product's fields came from
                product.field_sources = {}
            product.suggestions, product.review_reasons = [], []
            product.confidence, product.confidence_source, product.evidence, product.phash = 0, "analysis", {}, "0"
        return write

    def image_analysis() -> None:
        write_image_analysis(-1, {-1: {}})

    compile_writes(identified(()), identified(("name", "brand", "gtin")), identified(FIELDS), image_analysis)


def write_image_analysis(product_id: int, per_image: dict[int, dict]) -> None:
    """Each photo's findings on its row: an UPDATE each, without reading the rows again first (a
    photo removed meanwhile is simply not there to update)."""
    for image_id, analysis in per_image.items():
        db.session.execute(update(ProductImage).where(ProductImage.id == image_id, ProductImage.product_id == product_id)
                           .values(analysis=analysis).execution_options(synchronize_session=False))


def _analyse_one(sha: str, filename: str, timings: dict, ocr_error: str | None) -> tuple[dict, str | None]:
    try:
        return analyse_photo(storage.open_path(sha), timings, ocr_error)
    except (ImageRejected, FileNotFoundError) as exc:
        return {"error": getattr(exc, "reason", None) or "the stored file is missing"}, ocr_error


def analyse_photo(path: ImageInput, timings: dict, ocr_error: str | None) -> tuple[dict, str | None]:
    """Every offline reading of one photo; `timings` gains the milliseconds of each (TIMINGS).

    The full-size readings come first (barcodes, quality, hash), then the photo is let go and OCR
    reads its scaled copy: the full-size photo and its barcode copies are not held while the text
    detector's memory grows, which keeps a 12 MP photo's work horse under 400 MB. The barcodes
    are settled with the printed digits at the end (a rare second reading opens the file again)."""
    t = time.perf_counter()
    image = load_image(path)
    timings["decode_ms"] += (time.perf_counter() - t) * 1000
    found: dict = {"width": image.width, "height": image.height, "ocr": []}
    t = time.perf_counter()
    candidates = read_candidates(image)
    timings["barcodes_ms"] += (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    quality = assess_quality(image)
    timings["quality_ms"] += (time.perf_counter() - t) * 1000
    found["quality"] = {"score": quality.score, "reasons": quality.reasons}
    t = time.perf_counter()
    found["phash"] = perceptual_hash(image)
    timings["hash_ms"] += (time.perf_counter() - t) * 1000
    wants_text = ocr_error is None and min(image.size) >= MIN_OCR_SIDE
    if wants_text:
        from app.analysis import ocr

        t = time.perf_counter()
        prepared = ocr.prepare(image)
        del image
        give_back_freed_memory()
        try:
            found["ocr"] = [{"text": line.text, "confidence": round(line.confidence, 3),
                             "box": [list(p) for p in line.box]} for line in ocr.read_prepared(prepared)]
        except RuntimeError as exc:  # the engine could not load: report once, carry on without text
            ocr_error = str(exc)
        del prepared
        timings["ocr_ms"] += (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    printed = [(o["text"], o["confidence"]) for o in found["ocr"]]
    found["barcodes"] = [c.as_json() for c in read_codes(path, printed, candidates=candidates)]
    timings["barcodes_ms"] += (time.perf_counter() - t) * 1000
    return found, ocr_error


def _reference_for(ctx: PhaseContext, codes: list[dict]) -> dict[str, Reference]:
    """Reference rows for the product numbers read: local first, then the online look-up if set."""
    from app.analysis.gs1 import gs1_prefix
    from app.refdata import lookup

    gtins = []
    for code in codes:
        gtin = normalise_gtin(str(code.get("text", "")))
        if gtin and gtin not in gtins and gs1_prefix(gtin).identifies_product:
            gtins.append(gtin)
    found = lookup.find(gtins)
    if lookup.lookup_enabled():
        for gtin in gtins:
            if gtin in found:
                continue
            entry, note = lookup.lookup_online(gtin)
            ctx.log(note.level, note.message)
            if entry is not None:
                found[gtin] = entry
    return {g: Reference(gtin=e.gtin, name=e.name, brand=e.brand, quantity=e.quantity, categories=e.categories,
                         source=e.source, fetched_at=e.fetched_at) for g, e in found.items()}


def _known_brands(catalogue: list[CatalogueEntry], ocr_lines: list[dict]) -> dict[str, str]:
    """Brands a word on the photo could be: the catalogue's, and the reference data's among those words."""
    from app.pipeline.photo_text import candidate_words
    from app.refdata import lookup

    brands = {e.brand.casefold(): e.brand for e in catalogue if e.brand}
    words = [w for line in ocr_lines for w in candidate_words(str(line.get("text", "")))]
    return lookup.brands_among(words) | brands


def _ask_vision(ctx: PhaseContext, images: list[tuple[int, str, str]]) -> list[dict]:
    vision = vision_provider
    if not images or not vision.enabled():
        return []
    try:
        answer = vision.describe(storage.open_path(images[0][1]), served=ai.Served(ctx.org_id, "product", ctx.product_id),
                                 hints={"name": ctx.product.hint_name, "model": ctx.product.hint_model})
    except vision.ProviderError as exc:
        ctx.log("warning", f"vision model failed: {exc}", **exc.call.as_details())
        return []
    ctx.log("info", "vision model answered", answer=answer.fields, **answer.call.as_details())
    return [{"text": v, "source": f"vision:{k}"} for k, v in answer.fields.items() if v and k != "category"]

