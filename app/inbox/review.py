"""Extraction of order lines from a message, and the review that turns them into an order.

`extraction_run` is what the job calls; `extraction_confirm` is the one click that makes the
order through the orders domain's services (create, then confirm, which reserves stock).
"""
from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.analysis.matching import CatalogueEntry
from app.core import audit
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import Organisation, utcnow
from app.extensions import db
from app.inbox import extractor, text_model, usage, webhooks_out
from app.inbox.models import Direction, Message
from app.inbox.review_models import (
    OPEN_EXTRACTION,
    ExtractedLine,
    Extraction,
    ExtractionFeedback,
    ExtractionStatus,
)
from app.inbox.services import CONVERSATION_EVENT
from app.inventory.models import Item
from app.inventory.selectors import catalogue_entries
from app.inventory.stock import InsufficientStock

log = logging.getLogger(__name__)
REVIEW_EVENT = "inbox-review-changed"
MAX_QUANTITY = 10_000


# --- extraction -----------------------------------------------------------------------------------

def catalogue_with_aliases(org_id: int) -> list[CatalogueEntry]:
    """The catalogue, each item carrying the words staff have matched to it in review as aliases."""
    aliases: dict[int, set[str]] = {}
    for text, corrected in db.session.execute(select(ExtractionFeedback.product_text, ExtractionFeedback.corrected)
                                              .where(ExtractionFeedback.organisation_id == org_id)):
        item_id = (corrected or {}).get("item_id")
        if item_id and text:
            aliases.setdefault(int(item_id), set()).add(text.lower())
    entries = catalogue_entries(org_id)
    if not aliases:
        return entries
    out = []
    for e in entries:
        item_id = int(str(e.key).split(":")[1]) if str(e.key).startswith("item:") else None
        extra = tuple(sorted(aliases.get(item_id, ())))
        out.append(CatalogueEntry(key=e.key, name=e.name, sku=e.sku, brand=e.brand, gtin=e.gtin, category=e.category,
                                  model=e.model, aliases=tuple(e.aliases) + extra) if extra else e)
    return out


def _item_id(entry: CatalogueEntry | None) -> int | None:
    if entry is None or not str(entry.key).startswith("item:"):
        return None
    return int(str(entry.key).split(":")[1])


def _external(message: Message, entries: list[CatalogueEntry]) -> tuple[extractor.ExtractionResult | None, str]:
    """The text model's reading, metered; None (with the reason) when it is off, over budget or failed."""
    if not text_model.enabled():
        return None, ""
    allowed, why = usage.external_allowed(message.organisation_id)
    if not allowed:
        return None, why
    org_id, message_id = message.organisation_id, message.id
    text, day = "\n".join(filter(None, [message.subject, message.body])), message.created_at.date()
    db.session.commit()  # no transaction (nor SQLite's write lock) held while the model thinks
    try:
        answer = text_model.ask(text, day)
    except text_model.ModelError as exc:
        usage.record_usage(org_id=org_id, provider=text_model.provider_name(), message_id=message_id,
                           tokens_in=exc.tokens_in, tokens_out=exc.tokens_out,
                           cost=text_model.cost_of(exc.tokens_in, exc.tokens_out),
                           currency=text_model.setting("TEXT_PRICE_CURRENCY", "USD"), ok=False)
        return None, f"{exc}; the offline extractor was used."
    usage.record_usage(org_id=org_id, provider=text_model.provider_name(), message_id=message_id,
                       tokens_in=answer.tokens_in, tokens_out=answer.tokens_out,
                       cost=text_model.cost_of(answer.tokens_in, answer.tokens_out),
                       currency=text_model.setting("TEXT_PRICE_CURRENCY", "USD"), ok=True)
    skus = {e.sku.lower(): e for e in entries if e.sku}
    lines = []
    for raw in answer.lines:
        entry, score, evidence = extractor.match_product(raw["product"], entries, skus)
        evidence["source"] = "text model"
        confidence = score if raw["quantity"] else min(score, 60)
        lines.append(extractor.LineResult(quantity=raw["quantity"], unit=raw["unit"], product_text=raw["product"],
                                          entry=entry, confidence=confidence, evidence=evidence))
    reasons = [f"Line {n}: “{x.product_text}” matches no catalogue item." for n, x in enumerate(lines, 1)
               if x.entry is None] or ([] if lines else ["No order lines recognised."])
    return extractor.ExtractionResult(lines=lines, confidence=min((x.confidence for x in lines), default=0),
                                      wanted_date=answer.wanted_date, address_hint=answer.address,
                                      reasons=reasons), ""


def extraction_run(*, message_id: int) -> Extraction | None:
    """Read order lines out of an inbound message (once); low confidence or gaps go to review."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != Direction.IN:
        return None
    existing = db.session.scalar(select(Extraction).where(Extraction.message_id == message.id))
    if existing is not None:
        return existing
    org = db.session.get(Organisation, message.organisation_id)
    entries = catalogue_with_aliases(message.organisation_id)
    result, note = _external(message, entries)
    provider = text_model.provider_name() if result is not None else "offline"
    if result is None:
        text = "\n".join(filter(None, [message.subject, message.body]))
        result = extractor.extract(text, message.created_at, entries)
    threshold = org.review_threshold if org else 80
    reasons = list(result.reasons)
    if result.lines and result.confidence < threshold:
        reasons.append(f"Confidence {result.confidence} is below the organisation's threshold of {threshold}.")
    status = ExtractionStatus.REVIEW if reasons else ExtractionStatus.READY
    extraction = Extraction(organisation_id=message.organisation_id, message=message, status=status,
                            confidence=result.confidence, provider=provider, provider_note=note,
                            wanted_date=result.wanted_date, wanted_text=result.wanted_text[:120],
                            address_hint=result.address_hint[:1000], reasons=reasons)
    for n, line in enumerate(result.lines, start=1):
        extraction.lines.append(ExtractedLine(
            organisation_id=message.organisation_id, position=n, quantity=line.quantity, unit=line.unit,
            product_text=line.product_text, item_id=_item_id(line.entry), confidence=line.confidence,
            evidence=line.evidence, status="matched" if line.entry is not None else "unmatched"))
    message.processed = True
    db.session.add(extraction)
    try:
        db.session.flush()
    except IntegrityError:  # the same job ran twice at once; the other run's reading stands
        db.session.rollback()
        return db.session.scalar(select(Extraction).where(Extraction.message_id == message_id))
    if status == ExtractionStatus.REVIEW:
        webhooks_out.dispatch(message.organisation_id, "review.required", {
            "extraction_id": extraction.id, "message_id": message.id, "confidence": extraction.confidence})
    _announce(extraction)
    db.session.commit()
    log.info("inbox: message %s read by %s: %d lines, confidence %d, %s", message_id, provider,
             len(result.lines), result.confidence, status.value)
    return extraction


def _announce(extraction: Extraction) -> None:
    publish_after_commit(extraction.organisation_id, REVIEW_EVENT, {"extraction_id": extraction.id})
    publish_after_commit(extraction.organisation_id, CONVERSATION_EVENT,
                         {"conversation_id": extraction.message.conversation_id})


# --- review ---------------------------------------------------------------------------------------

def _extraction(org_id: int, extraction_id: int) -> Extraction:
    extraction = db.session.get(Extraction, extraction_id)
    if extraction is None or extraction.organisation_id != org_id:
        raise NotFound("No such extraction in your organisation.")
    return extraction


def _open_line(org_id: int, line_id: int) -> ExtractedLine:
    line = db.session.get(ExtractedLine, line_id)
    if line is None or line.organisation_id != org_id:
        raise NotFound("No such line in your organisation.")
    if not line.extraction.is_open:
        raise Conflict("This message was already turned into an order or rejected.")
    return line


def _parse_quantity(value) -> int:
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput("The quantity must be a whole number.", field="quantity") from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"The quantity must be between 1 and {MAX_QUANTITY}.", field="quantity")
    return quantity


def _parse_item(org_id: int, value) -> Item:
    try:
        item = db.session.get(Item, int(value))
    except (TypeError, ValueError):
        item = None
    if item is None or item.organisation_id != org_id:
        raise InvalidInput("Choose a product from your catalogue.", field="item_id")
    return item


def _snapshot(line: ExtractedLine) -> dict:
    return {"item_id": line.item_id, "quantity": line.quantity, "unit": line.unit, "status": line.status}


def _feedback(line: ExtractedLine, original: dict, by_user_id: int | None) -> None:
    db.session.add(ExtractionFeedback(organisation_id=line.organisation_id, extraction_id=line.extraction_id,
                                      line_id=line.id, product_text=line.product_text, original=original,
                                      corrected=_snapshot(line), by_user_id=by_user_id))


def line_update(*, org_id: int, line_id: int, item_id, quantity, by_user_id: int | None) -> ExtractedLine:
    """Set a line's product and quantity; the change is kept as feedback for the extractor."""
    line = _open_line(org_id, line_id)
    item = _parse_item(org_id, item_id)
    qty = _parse_quantity(quantity)
    original = _snapshot(line)
    if original["item_id"] == item.id and original["quantity"] == qty:
        return line
    line.item_id, line.quantity, line.status, line.confidence = item.id, qty, "corrected", 100
    line.evidence = {**(line.evidence or {}), "corrected_by": by_user_id}
    _feedback(line, original, by_user_id)
    _announce(line.extraction)
    db.session.commit()
    return line


def line_remove(*, org_id: int, line_id: int, by_user_id: int | None) -> ExtractedLine:
    """Drop a line the extractor should not have found."""
    line = _open_line(org_id, line_id)
    original = _snapshot(line)
    line.status = "removed"
    _feedback(line, original, by_user_id)
    _announce(line.extraction)
    db.session.commit()
    return line


def line_add(*, org_id: int, extraction_id: int, item_id, quantity, by_user_id: int | None) -> ExtractedLine:
    """Add a line the extractor missed."""
    extraction = _extraction(org_id, extraction_id)
    if not extraction.is_open:
        raise Conflict("This message was already turned into an order or rejected.")
    item = _parse_item(org_id, item_id)
    qty = _parse_quantity(quantity)
    line = ExtractedLine(organisation_id=org_id, extraction=extraction, position=len(extraction.lines) + 1,
                         quantity=qty, unit="", product_text="", item_id=item.id, confidence=100,
                         evidence={"method": "added in review"}, status="corrected")
    db.session.add(line)
    db.session.flush()
    _feedback(line, {"item_id": None, "quantity": None, "unit": "", "status": "missing"}, by_user_id)
    _announce(extraction)
    db.session.commit()
    return line


def extraction_reject(*, org_id: int, extraction_id: int, reason: str, by_user_id: int | None) -> Extraction:
    """Decide that a message is not an order (the reason is kept)."""
    extraction = _extraction(org_id, extraction_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the message is rejected.", field="reason")
    if not extraction.is_open:
        raise Conflict("This message was already turned into an order or rejected.")
    extraction.status, extraction.reject_reason = ExtractionStatus.REJECTED, reason[:1000]
    extraction.reviewed_by_id, extraction.reviewed_at = by_user_id, utcnow()
    audit.record(org_id=org_id, actor_id=by_user_id, action="extraction.reject", object_type="extraction",
                 object_id=extraction.id, after={"reason": extraction.reject_reason})
    _announce(extraction)
    db.session.commit()
    return extraction


def _order_lines(extraction: Extraction) -> list[dict]:
    lines = extraction.active_lines
    if not lines:
        raise InvalidInput("There are no lines to order: add a product or reject the message.")
    for n, line in enumerate(lines, start=1):
        if line.item_id is None or not line.quantity:
            raise InvalidInput(f"Line {n} needs a product and a quantity before the order can be made.")
    return [{"item_id": line.item_id, "quantity": line.quantity, "customisation": None} for line in lines]


def _check_stock(org_id: int, lines: list[dict]) -> None:
    wanted: dict[int, int] = {}
    for line in lines:
        wanted[line["item_id"]] = wanted.get(line["item_id"], 0) + line["quantity"]
    for item in db.session.scalars(select(Item).where(Item.organisation_id == org_id, Item.id.in_(wanted))):
        if item.on_hand - item.reserved < wanted[item.id]:
            raise InsufficientStock(item.sku, item.on_hand - item.reserved, wanted[item.id])


def _notes(extraction: Extraction) -> str:
    parts = [f"From {extraction.message.channel.label} message #{extraction.message_id}."]
    if extraction.wanted_date:
        parts.append(f"Wanted by {extraction.wanted_date.isoformat()} (“{extraction.wanted_text}”).")
    if extraction.address_hint:
        parts.append(f"Address given: {extraction.address_hint}.")
    return " ".join(parts)


def extraction_confirm(*, org_id: int, extraction_id: int, by_user_id: int | None):
    """Create the order from the lines and confirm it (reserving stock); all of it or nothing."""
    from app.orders.services import order_cancel, order_confirm, order_create

    extraction = _extraction(org_id, extraction_id)
    if not extraction.is_open:
        raise Conflict("This message was already turned into an order or rejected.")
    lines = _order_lines(extraction)
    _check_stock(org_id, lines)
    previous = extraction.status
    # Claim it first: a double click or a second reviewer finds it taken and makes no second order.
    claimed = db.session.execute(update(Extraction).where(Extraction.id == extraction.id,
                                                          Extraction.status.in_(OPEN_EXTRACTION))
                                 .values(status=ExtractionStatus.CONFIRMED, reviewed_by_id=by_user_id,
                                         reviewed_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if claimed != 1:
        raise Conflict("Somebody else is already making this order.")
    customer = extraction.message.conversation.customer
    order = None
    try:
        order = order_create(org_id=org_id, by_user_id=by_user_id, lines=lines, notes=_notes(extraction),
                             source=f"inbox-{extraction.message.channel.value}",
                             customer={"id": customer.id, "name": customer.name,
                                       "shipping_address": extraction.address_hint})
        order_confirm(org_id=org_id, order_id=order.id, by_user_id=by_user_id)
    except DomainError:
        db.session.rollback()
        if order is not None:  # stock ran out between our check and the reservation: undo the draft
            order_cancel(org_id=org_id, order_id=order.id, by_user_id=by_user_id,
                         note="Not enough stock when confirming from the inbox.")
        db.session.execute(update(Extraction).where(Extraction.id == extraction_id)
                           .values(status=previous, reviewed_by_id=None, reviewed_at=None))
        db.session.commit()
        raise
    extraction = db.session.get(Extraction, extraction_id)
    db.session.refresh(extraction)
    extraction.order_id = order.id
    audit.record(org_id=org_id, actor_id=by_user_id, action="extraction.confirm", object_type="extraction",
                 object_id=extraction.id, after={"order_id": order.id, "order_number": order.number})
    webhooks_out.dispatch(org_id, "order.created", {
        "order_id": order.id, "number": order.number, "total": str(order.total), "currency": order.currency,
        "message_id": extraction.message_id})
    _announce(extraction)
    db.session.commit()
    return order


def wanted_date_update(*, org_id: int, extraction_id: int, value: str, by_user_id: int | None) -> Extraction:
    """Correct the date the customer wants the goods by (empty clears it)."""
    extraction = _extraction(org_id, extraction_id)
    if not extraction.is_open:
        raise Conflict("This message was already turned into an order or rejected.")
    try:
        new = date.fromisoformat(value) if value else None
    except ValueError:
        raise InvalidInput("Enter the date as YYYY-MM-DD.", field="wanted_date") from None
    db.session.add(ExtractionFeedback(organisation_id=org_id, extraction_id=extraction.id, product_text="",
                                      original={"wanted_date": str(extraction.wanted_date or "")},
                                      corrected={"wanted_date": str(new or "")}, by_user_id=by_user_id))
    extraction.wanted_date = new
    db.session.commit()
    return extraction
