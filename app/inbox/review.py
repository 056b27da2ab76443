"""The review that turns a message's extraction into an order.

`extraction_run` (app.inbox.extraction) is what the job calls; `extraction_confirm` is the one
click that makes the order through the orders domain's services (create, then confirm, which
reserves stock). It refuses while any part of the message is still not understood.
"""
from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select, update

from app.core import audit
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.core.models import User, user_id_of, utcnow
from app.extensions import db
from app.inbox import extraction as extraction_module
from app.inbox.review_models import (
    OPEN_EXTRACTION,
    ExtractedLine,
    Extraction,
    ExtractionFeedback,
    ExtractionStatus,
)
from app.inventory.models import Item
from app.inventory.stock import InsufficientStock

log = logging.getLogger(__name__)
MAX_QUANTITY = 10_000


# --- extraction (the job's service lives in app.inbox.extraction) ------------------------------

REVIEW_EVENT = extraction_module.REVIEW_EVENT
extraction_run = extraction_module.extraction_run
catalogue_with_aliases = extraction_module.catalogue_with_aliases
_announce = extraction_module.announce


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


def _feedback(line: ExtractedLine, original: dict, by: User | None) -> None:
    db.session.add(ExtractionFeedback(organisation_id=line.organisation_id, extraction_id=line.extraction_id,
                                      line_id=line.id, product_text=line.product_text, original=original,
                                      corrected=_snapshot(line), by_user_id=user_id_of(by)))


def line_update(*, org_id: int, line_id: int, item_id, quantity, by: User | None) -> ExtractedLine:
    """Set a line's product and quantity; the change is kept as feedback for the extractor."""
    line = _open_line(org_id, line_id)
    item = _parse_item(org_id, item_id)
    qty = _parse_quantity(quantity)
    original = _snapshot(line)
    if original["item_id"] == item.id and original["quantity"] == qty:
        return line
    line.item_id, line.quantity, line.status, line.confidence = item.id, qty, "corrected", 100
    line.evidence = {**(line.evidence or {}), "corrected_by": user_id_of(by)}
    _resolve_linked(line, by)
    _feedback(line, original, by)
    _announce(line.extraction)
    db.session.commit()
    return line


def line_remove(*, org_id: int, line_id: int, by: User | None) -> ExtractedLine:
    """Drop a line the extractor should not have found."""
    line = _open_line(org_id, line_id)
    original = _snapshot(line)
    line.status = "removed"
    _resolve_linked(line, by)
    _feedback(line, original, by)
    _announce(line.extraction)
    db.session.commit()
    return line


def _mark_resolved(extraction: Extraction, index: int, by: User | None, how: str) -> bool:
    parts = [dict(p) for p in extraction.not_understood or []]
    if not 0 <= index < len(parts) or parts[index].get("resolved_at"):
        return False
    parts[index].update(resolved_by=user_id_of(by), resolved_at=utcnow().isoformat(), resolved_how=how)
    extraction.not_understood = parts  # a new list, so the JSON column is written
    return True


def _resolve_linked(line: ExtractedLine, by: User | None) -> None:
    index = (line.evidence or {}).get("part")
    if isinstance(index, int):
        _mark_resolved(line.extraction, index, by, "line " + line.status)


def part_resolve(*, org_id: int, extraction_id: int, index, by: User | None) -> Extraction:
    """A person has dealt with a part of the message the reader did not understand."""
    extraction = _extraction(org_id, extraction_id)
    if not extraction.is_open:
        raise Conflict("This message was already turned into an order or rejected.")
    try:
        position = int(str(index))
    except (TypeError, ValueError):
        raise InvalidInput("Choose a part of the message to mark as handled.", field="index") from None
    if not _mark_resolved(extraction, position, by, "marked handled"):
        raise InvalidInput("That part does not exist or was already handled.", field="index")
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="extraction.part_resolve", object_type="extraction",
                 object_id=extraction.id, after={"part": extraction.not_understood[position].get("text", "")[:200]})
    _announce(extraction)
    db.session.commit()
    return extraction


def line_add(*, org_id: int, extraction_id: int, item_id, quantity, by: User | None) -> ExtractedLine:
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
    _feedback(line, {"item_id": None, "quantity": None, "unit": "", "status": "missing"}, by)
    _announce(extraction)
    db.session.commit()
    return line


def extraction_reject(*, org_id: int, extraction_id: int, reason: str, by: User | None) -> Extraction:
    """Decide that a message is not an order (the reason is kept)."""
    extraction = _extraction(org_id, extraction_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the message is rejected.", field="reason")
    if not extraction.is_open:
        raise Conflict("This message was already turned into an order or rejected.")
    extraction.status, extraction.reject_reason = ExtractionStatus.REJECTED, reason[:1000]
    extraction.reviewed_by_id, extraction.reviewed_at = user_id_of(by), utcnow()
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="extraction.reject", object_type="extraction",
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
    if extraction.wanted_date and extraction.wanted_text:  # the date itself is the order's due date
        parts.append(f"The customer wrote “{extraction.wanted_text}” about the date.")
    if extraction.address_hint:
        parts.append(f"Address given: {extraction.address_hint}.")
    return " ".join(parts)


def extraction_confirm(*, org_id: int, extraction_id: int, by: User | None):
    """Create the order from the lines and confirm it (reserving stock); all of it or nothing."""
    from app.orders.services import order_cancel, order_confirm, order_create

    extraction = _extraction(org_id, extraction_id)
    if not extraction.is_open:
        raise Conflict("This message was already turned into an order or rejected.")
    if extraction.open_parts:
        raise Conflict(f"{len(extraction.open_parts)} part(s) of the message are not understood yet: "
                       "complete or mark them as handled first.")
    if (extraction.kind or "order") != "order":
        raise Conflict(f"This message is not an order ({extraction.kind_label}).")
    lines = _order_lines(extraction)
    _check_stock(org_id, lines)
    previous = extraction.status
    # Claim it first: a double click or a second reviewer finds it taken and makes no second order.
    claimed = db.session.execute(update(Extraction).where(Extraction.id == extraction.id,
                                                          Extraction.status.in_(OPEN_EXTRACTION))
                                 .values(status=ExtractionStatus.CONFIRMED, reviewed_by_id=user_id_of(by),
                                         reviewed_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if claimed != 1:
        raise Conflict("Somebody else is already making this order.")
    customer = extraction.message.conversation.customer
    order = None
    try:
        # order_create fires the one `order.created` webhook of every order, with the message it came from.
        order = order_create(org_id=org_id, by=by, lines=lines, notes=_notes(extraction),
                             source=f"inbox-{extraction.message.channel.value}", due_date=extraction.wanted_date,
                             event_data={"message_id": extraction.message_id},
                             customer={"id": customer.id, "name": customer.name,
                                       "shipping_address": extraction.address_hint})
        order_confirm(org_id=org_id, order_id=order.id, by=by)
    except DomainError:
        db.session.rollback()
        if order is not None:  # stock ran out between our check and the reservation: undo the draft
            order_cancel(org_id=org_id, order_id=order.id, by=by,
                         note="Not enough stock when confirming from the inbox.")
        db.session.execute(update(Extraction).where(Extraction.id == extraction_id)
                           .values(status=previous, reviewed_by_id=None, reviewed_at=None))
        db.session.commit()
        raise
    extraction = db.session.get(Extraction, extraction_id)
    db.session.refresh(extraction)
    extraction.order_id = order.id
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="extraction.confirm", object_type="extraction",
                 object_id=extraction.id, after={"order_id": order.id, "order_number": order.number})
    _announce(extraction)
    db.session.commit()
    return order


def wanted_date_update(*, org_id: int, extraction_id: int, value: str, by: User | None) -> Extraction:
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
                                      corrected={"wanted_date": str(new or "")}, by_user_id=user_id_of(by)))
    extraction.wanted_date = new
    db.session.commit()
    return extraction
