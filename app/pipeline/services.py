"""Business actions on products: upload, start, stop, retry, restart, review, reorder images.

Fair ordering: a product's phases run on the "default" queue while its uploader has fewer than
PIPELINE_FAIR_SHARE (5) products in flight, and on the "low" queue beyond that. Workers always
take "default" before "low", so one manager's 200-item upload fills "low" while another
manager's single item goes straight to "default" and is picked next. The rank is fixed at
upload (stored on the product) so a product's later phases stay on the same queue.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app
from rq.command import send_stop_job_command
from rq.job import Job
from sqlalchemy import func, select

from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import Organisation, User, utcnow
from app.core.queue import get_redis
from app.core.transactions import after_commit
from app.extensions import db
from app.pipeline import recovery, uploads  # noqa: F401 - recovery: the pipeline's sweeper, for the phases queued here
from app.pipeline.models import (
    ACTIVE_STATUSES,
    PHASE_IN_FLIGHT,
    Condition,
    PhaseStatus,
    PipelineLog,
    Product,
    ProductImage,
    ProductPhase,
    ProductStatus,
)
from app.pipeline.phases import PHASES
from app.pipeline.runner import PRODUCT_EVENT, continue_after, queue_phase
from app.pipeline.settings import setting

log = logging.getLogger(__name__)
REVIEW_FIELDS = ("name", "brand", "model", "category", "gtin")


@dataclass
class UploadResult:
    product: Product | None
    accepted: list[str] = field(default_factory=list)
    errors: list[uploads.FileError] = field(default_factory=list)


def _load(org_id: int, product_id: int, *, lock: bool = False) -> Product:
    """The product, or NotFound. `lock`: on PostgreSQL its row is locked first, so a worker's finish
    in progress (which holds it) is waited for and its outcome is what this change starts from."""
    product = db.session.get(Product, product_id, with_for_update=lock or None, populate_existing=lock)
    if product is None or product.organisation_id != org_id:
        raise NotFound("There is no such product in your organisation.")
    return product


def _changed(product: Product) -> None:
    publish_after_commit(product.organisation_id, PRODUCT_EVENT,
                         {"product_id": product.id, "status": product.status.value})


def _log(product: Product, message: str, *, level: str = "info", phase: str | None = None, **details) -> None:
    from app.pipeline.runner import LOG_EVENT

    db.session.add(PipelineLog(organisation_id=product.organisation_id, product_id=product.id, phase=phase,
                               level=level, message=message, details=details or None))
    publish_after_commit(product.organisation_id, LOG_EVENT, {"product_id": product.id})


def fair_queue(*, org_id: int, user_id: int | None) -> tuple[int, str]:
    """(rank, queue) for a new product of this uploader; see the module doc."""
    share = setting("PIPELINE_FAIR_SHARE")
    rank = db.session.scalar(select(func.count()).select_from(Product).where(
        Product.organisation_id == org_id, Product.created_by_id == user_id,
        Product.status.in_(ACTIVE_STATUSES))) or 0
    return rank, ("default" if rank < share else "low")


def product_create(*, org_id: int, by: User | None, files: list[tuple[str, object]], hint_name: str = "",
                   hint_model: str = "", condition: str = "unknown", start: bool = True) -> UploadResult:
    """Check every file; with at least one good image, create the product and start its pipeline."""
    try:
        condition_value = Condition(condition or "unknown")
    except ValueError:
        raise InvalidInput("Choose a condition from the list.", field="condition") from None
    if not files:
        raise InvalidInput("Choose at least one photo.", field="images")
    good, bad = uploads.check_and_store(files)  # seconds of image work, with no write lock held
    result = UploadResult(None, errors=bad)
    if not good:
        return result
    user_id = by.id if by is not None else None
    rank, queue = fair_queue(org_id=org_id, user_id=user_id)
    name, model = hint_name.strip()[:200] or None, hint_model.strip()[:120] or None
    # The uploader's words are the product's name and model until a person changes them.
    product = Product(organisation_id=org_id, status=ProductStatus.UPLOADED, hint_name=name, hint_model=model,
                      name=name, model=model, field_sources={f: "upload" for f, v in (("name", name), ("model", model))
                                                             if v},
                      condition=condition_value, created_by_id=user_id, fair_rank=rank, queue=queue)
    db.session.add(product)
    for position, stored in enumerate(good):
        checked, sha, thumb = stored.checked, stored.sha256, stored.thumb_sha256
        product.images.append(ProductImage(
            organisation_id=org_id, sha256=sha, thumb_sha256=thumb, filename=checked.filename,
            format=checked.format, size_bytes=len(checked.data), width=checked.width, height=checked.height,
            position=position))
        result.accepted.append(checked.filename)
    for position, name in enumerate(PHASES):
        product.phases.append(ProductPhase(organisation_id=org_id, name=name, position=position,
                                           status=PhaseStatus.PENDING))
    db.session.flush()
    _log(product, f"uploaded with {len(good)} image(s)", files=result.accepted,
         rejected=[{"file": e.filename, "reason": e.reason} for e in bad], queue=queue, fair_rank=rank)
    audit.record(org_id=org_id, actor_id=user_id, action="product.uploaded", object_type="product",
                 object_id=product.id, after={"images": result.accepted, "rejected": len(bad), "started": start})
    if start:
        _start(product)
    _changed(product)
    db.session.commit()
    result.product = product
    return result


def _start(product: Product, from_phase: ProductPhase | None = None) -> None:
    first = from_phase or next((p for p in product.phases if p.status not in (PhaseStatus.COMPLETED,
                                                                               PhaseStatus.SKIPPED)), None)
    if first is None:
        product.set_status(ProductStatus.COMPLETED)
        return
    product.set_status(ProductStatus.PROCESSING)
    if first.status not in (PhaseStatus.PENDING, PhaseStatus.QUEUED):
        PhaseStatus.check(first.status, PhaseStatus.PENDING)
        first.status = PhaseStatus.PENDING
    first.attempts = 0
    queue_phase(first, product)


def allowed_actions(product: Product) -> set[str]:
    """The control buttons this product's state allows."""
    status = product.status
    actions: set[str] = set()
    if status in (ProductStatus.UPLOADED, ProductStatus.STOPPED):
        actions.add("start")
    if status in (ProductStatus.UPLOADED, ProductStatus.PROCESSING):
        actions.add("stop")
    if status == ProductStatus.ERROR:
        actions.add("retry")
    if status in (ProductStatus.COMPLETED, ProductStatus.ERROR, ProductStatus.STOPPED, ProductStatus.NEEDS_REVIEW):
        actions.add("restart")
    if status == ProductStatus.NEEDS_REVIEW:
        actions.update({"approve", "reject"})
    if status != ProductStatus.ARCHIVED and status not in ACTIVE_STATUSES:
        actions.add("archive")
    return actions


def _require(product: Product, action: str) -> None:
    if action not in allowed_actions(product):
        raise Conflict(f"This product is {product.status.label.lower()}: it cannot be {_PAST[action]} now. "
                       "Reload the page to see what it can do.")


_PAST = {"start": "started", "stop": "stopped", "retry": "retried", "restart": "restarted",
         "approve": "approved", "reject": "rejected", "archive": "archived"}


def product_start(*, org_id: int, product_id: int, by: User) -> Product:
    """Start (or resume) a product's pipeline at its first unfinished phase."""
    product = _load(org_id, product_id)
    _require(product, "start")
    before = {"status": product.status.value}
    _start(product)
    _audit(product, by, "product.started", before)
    _log(product, f"started by {by.display_name}")
    _changed(product)
    db.session.commit()
    return product


def product_stop(*, org_id: int, product_id: int, by: User) -> Product:
    """Stop a product: queued jobs are cancelled, a running one is killed on its worker."""
    product = _load(org_id, product_id, lock=True)
    _require(product, "stop")
    running, queued = [], []
    for phase in product.phases:
        if phase.status in PHASE_IN_FLIGHT:
            (running if phase.status == PhaseStatus.RUNNING else queued).append(phase.rq_job_id)
            PhaseStatus.check(phase.status, PhaseStatus.STOPPED)
            phase.status, phase.finished_at, phase.lease_until = PhaseStatus.STOPPED, utcnow(), None
            phase.error = f"stopped by {by.display_name}"
    before = {"status": product.status.value}
    product.set_status(ProductStatus.STOPPED)
    _audit(product, by, "product.stopped", before)
    _log(product, f"stopped by {by.display_name}", level="warning")
    app = current_app._get_current_object()

    def _cancel() -> None:
        with app.app_context():
            _cancel_jobs(running, queued)

    after_commit(_cancel)
    _changed(product)
    db.session.commit()
    return product


def _cancel_jobs(running: list[str | None], queued: list[str | None]) -> None:
    redis = get_redis()
    for job_id in filter(None, running):
        try:
            send_stop_job_command(redis, job_id)  # the forking worker kills the work horse
        except Exception:  # not running any more: its result is discarded by the phase guard anyway
            log.info("stop command for %s not delivered", job_id, exc_info=True)
    for job_id in filter(None, queued):
        try:
            Job.fetch(job_id, connection=redis).cancel()
        except Exception:
            log.info("queued job %s already gone", job_id, exc_info=True)


def product_retry(*, org_id: int, product_id: int, by: User) -> Product:
    """Run the failed phase again (fresh attempt count), then carry on."""
    product = _load(org_id, product_id)
    _require(product, "retry")
    failed = next((p for p in product.phases if p.status == PhaseStatus.FAILED), None)
    if failed is None:
        raise Conflict("No phase has failed; nothing to retry.")
    before = {"status": product.status.value, "phase": failed.name, "attempts": failed.attempts_total}
    _start(product, failed)
    _audit(product, by, "product.retried", before)
    _log(product, f"{failed.name} retried by {by.display_name} (attempts so far: {failed.attempts_total})",
         phase=failed.name)
    _changed(product)
    db.session.commit()
    return product


def product_restart(*, org_id: int, product_id: int, phase: str, by: User) -> Product:
    """Run the pipeline again from `phase`: it and every later phase start afresh."""
    product = _load(org_id, product_id)
    _require(product, "restart")
    target = product.phase(phase)
    if target is None:
        raise InvalidInput("Choose a phase to restart from.", field="phase")
    before = {"status": product.status.value, "phase": phase, "attempts": target.attempts_total}
    for p in product.phases:
        if p.position >= target.position and p.status != PhaseStatus.PENDING:
            PhaseStatus.check(p.status, PhaseStatus.PENDING)
            p.status, p.error, p.attempts = PhaseStatus.PENDING, None, 0
    _start(product, target)
    _audit(product, by, "product.restarted", before)
    _log(product, f"restarted from {phase} by {by.display_name} (attempts so far: {target.attempts_total})",
         phase=phase)
    _changed(product)
    db.session.commit()
    return product


def _audit(product: Product, by: User, action: str, before: dict) -> None:
    audit.record(org_id=product.organisation_id, actor_id=by.id, action=action, object_type="product",
                 object_id=product.id, before=before, after={"status": product.status.value})


def _identity(product: Product) -> dict:
    return {f: getattr(product, f) for f in REVIEW_FIELDS} | {
        "condition": product.condition.value, "confidence": product.confidence}


def review_approve(*, org_id: int, product_id: int, by: User, values: dict, kept_text: list[str] | None = None
                   ) -> Product:
    """Confirm (and correct) what analysis found; the pipeline continues after analysis.

    Every field the reviewer submits becomes the person's value; `kept_text` are the photo's
    text lines the reviewer marked as real product text (later phases use only those)."""
    product = _load(org_id, product_id)
    _require(product, "approve")
    phase = next((p for p in product.phases if p.status == PhaseStatus.NEEDS_REVIEW), None)
    if phase is None:
        raise Conflict("This product is not waiting for a review any more.")
    before = _identity(product)
    confirmed = {f: (values.get(f) or "").strip() or None for f in REVIEW_FIELDS}
    _check_review_values(confirmed, values)
    for f, value in confirmed.items():
        setattr(product, f, value)
    if values.get("condition"):
        product.condition = Condition(values["condition"])
    product.field_sources = {f: "person" for f, value in confirmed.items() if value}
    product.kept_text = _kept_lines(product, kept_text or [])
    product.suggestions, product.review_reasons = None, None
    product.confidence, product.confidence_source = 100, "confirmed by person"
    product.reviewed_by_id, product.reviewed_at = by.id, utcnow()
    after = _identity(product) | {"kept_text": product.kept_text}
    audit.record(org_id=org_id, actor_id=by.id, action="product.review_approved", object_type="product",
                 object_id=product.id, before=before, after=after)
    PhaseStatus.check(phase.status, PhaseStatus.COMPLETED)
    phase.status, phase.finished_at = PhaseStatus.COMPLETED, utcnow()
    phase.result = dict(phase.result or {}) | {"reviewed": {"by": by.display_name, "before": before, "after": after}}
    product.set_status(ProductStatus.PROCESSING)
    _log(product, f"approved by {by.display_name}", phase=phase.name,
         changed={k: [before.get(k), after.get(k)] for k in before if before.get(k) != after.get(k)},
         kept_text=len(product.kept_text))
    continue_after(product, phase)
    _changed(product)
    db.session.commit()
    return product


def _check_review_values(confirmed: dict, values: dict) -> None:
    from app.analysis.barcodes import normalise_gtin

    if not confirmed["name"]:
        raise InvalidInput("A confirmed product needs a name.", field="name")
    if confirmed["gtin"]:
        normal = normalise_gtin(confirmed["gtin"])
        if normal is None:
            raise InvalidInput("That GTIN/EAN is not valid (8, 12, 13 or 14 digits with a correct check digit).",
                               field="gtin")
        confirmed["gtin"] = normal
    if values.get("condition") and values["condition"] not in {c.value for c in Condition}:
        raise InvalidInput("Choose a condition from the list.", field="condition")


def _kept_lines(product: Product, kept: list[str]) -> list[str]:
    """Only lines the photo's analysis really read can be kept (a form cannot add new text)."""
    read = {" ".join(line.split()) for line in photo_lines(product)}
    out: list[str] = []
    for line in kept:
        line = " ".join(str(line).split())
        if line in read and line not in out:
            out.append(line)
    return out


def photo_lines(product: Product) -> list[str]:
    """The text lines OCR read on the product's photos, in photo order, each once."""
    lines: list[str] = []
    for image in product.images:
        for item in (image.analysis or {}).get("ocr") or []:
            text = " ".join(str(item.get("text") if isinstance(item, dict) else item).split())
            if text and text not in lines:
                lines.append(text)
    return lines


def review_reject(*, org_id: int, product_id: int, by: User, reason: str) -> Product:
    """Archive a product that cannot be identified, with the reason."""
    product = _load(org_id, product_id)
    _require(product, "reject")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the product is rejected.", field="reason")
    _archive(product, by, reason, action="product.review_rejected")
    db.session.commit()
    return product


def product_archive(*, org_id: int, product_id: int, by: User, reason: str) -> Product:
    """Archive a product that is not in flight."""
    product = _load(org_id, product_id)
    _require(product, "archive")
    _archive(product, by, (reason or "").strip() or "archived", action="product.archived")
    db.session.commit()
    return product


def _archive(product: Product, by: User, reason: str, *, action: str) -> None:
    for phase in product.phases:
        if phase.status == PhaseStatus.NEEDS_REVIEW:
            phase.status = PhaseStatus.STOPPED
    before = {"status": product.status.value}
    product.set_status(ProductStatus.ARCHIVED)
    product.archive_reason = reason[:2000]
    audit.record(org_id=product.organisation_id, actor_id=by.id, action=action, object_type="product",
                 object_id=product.id, before=before, after={"status": "archived", "reason": reason})
    _log(product, f"archived by {by.display_name}: {reason}", level="warning")
    _changed(product)


def organisation_threshold_set(*, org_id: int, threshold: int, by: User) -> Organisation:
    """Set the confidence at or above which analysis completes a product without a person."""
    if not 0 <= threshold <= 100:
        raise InvalidInput("Enter a number from 0 to 100.", field="threshold")
    org = db.session.get(Organisation, org_id)
    before = {"review_threshold": org.review_threshold}
    org.review_threshold = threshold
    audit.record(org_id=org_id, actor_id=by.id, action="organisation.review_threshold_set",
                 object_type="organisation", object_id=org_id, before=before, after={"review_threshold": threshold})
    db.session.commit()
    return org


def images_reorder(*, org_id: int, product_id: int, image_ids: list[int], by: User) -> Product:
    """Put the product's images in this order (the first becomes the primary image)."""
    product = _load(org_id, product_id)
    by_id = {img.id: img for img in product.images}
    if sorted(image_ids) != sorted(by_id):
        raise InvalidInput("The new order must list each of the product's images once.")
    for position, image_id in enumerate(image_ids):
        by_id[image_id].position = position
    _log(product, f"images reordered by {by.display_name}", order=image_ids)
    _changed(product)
    db.session.commit()
    return product


def image_move(*, org_id: int, product_id: int, image_id: int, to: int, by: User) -> Product:
    """Move one image to position `to` (0 = primary)."""
    product = _load(org_id, product_id)
    ids = [img.id for img in product.images]
    if image_id not in ids:
        raise NotFound("There is no such image on this product.")
    ids.remove(image_id)
    ids.insert(max(0, min(to, len(ids))), image_id)
    return images_reorder(org_id=org_id, product_id=product_id, image_ids=ids, by=by)
