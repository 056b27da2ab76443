"""Reading an inbound message into an extraction: the job's service.

The offline reader (app.inbox.reading, through app.inbox.extractor) always reads the message.
When a text model is configured its reading is compared with the offline one: the same lines
keep the offline verdict (one click only if the offline rules allow it); different lines send
the message to review with both readings shown. Parts not understood become visible parts (and,
when they carry a quantity, lines without a product for a person to complete); "the usual"
proposes the customer's last order as lines to check. Nothing skips a person while a part is open.
"""
from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.analysis.matching import CatalogueEntry
from app.core import ai
from app.core.events import publish_after_commit
from app.core.models import Organisation
from app.extensions import db
from app.inbox import extractor, text_model, webhooks_out
from app.inbox.models import Direction, Message
from app.inbox.reading import Catalogue, read
from app.inbox.review_models import ExtractedLine, Extraction, ExtractionFeedback, ExtractionStatus
from app.inbox.services import CONVERSATION_EVENT
from app.inventory.selectors import catalogue_entries
from app.orders.models import Order
from app.orders.statuses import OrderStatus

log = logging.getLogger(__name__)
REVIEW_EVENT = "inbox-review-changed"


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
        item_id = item_id_of(e)
        extra = tuple(sorted(aliases.get(item_id, ())))
        out.append(CatalogueEntry(key=e.key, name=e.name, sku=e.sku, brand=e.brand, gtin=e.gtin, category=e.category,
                                  model=e.model, aliases=tuple(e.aliases) + extra) if extra else e)
    return out


def item_id_of(entry: CatalogueEntry | None) -> int | None:
    if entry is None or not str(entry.key).startswith("item:"):
        return None
    return int(str(entry.key).split(":")[1])


def _ask_model(message: Message):
    """The text model's answer, metered; (None, why) when it is off, over budget or failed."""
    if not text_model.enabled():
        return None, ""
    served = ai.Served(message.organisation_id, "message", message.id, "conversation", message.conversation_id)
    text, day = "\n".join(filter(None, [message.subject, message.body])), message.created_at.date()
    db.session.commit()  # no transaction (nor SQLite's write lock) held while the model thinks
    try:
        answer = text_model.ask(text, day, served=served)
    except text_model.ModelError as exc:
        return None, f"{exc}; the offline extractor was used."
    return answer, ""


def model_result(answer, catalogue: Catalogue) -> extractor.ExtractionResult:
    """The model's lines, each product phrase matched by our own reader (a model never invents a row)."""
    lines, parts = [], []
    for raw in answer.lines:
        quantity = raw["quantity"]
        phrase = f"{quantity or ''} {raw['product']}".strip()
        reading = read(phrase, catalogue)
        if quantity and len(reading.lines) == 1 and not reading.parts:
            found = extractor.result_of(reading, 0).lines[0]
            found.evidence["source"] = "text model"
            found.quantity, found.unit = quantity, raw["unit"] or found.unit
            lines.append(found)
        else:
            why = "The text model gave no quantity." if not quantity else "The text model's product is not in the catalogue."
            parts.append({"text": raw["product"], "start": None, "end": None, "reason": why, "quantity": quantity,
                          "unit": raw["unit"], "candidates": [c for p in reading.parts for c in p.candidates][:3]})
    result = extractor.ExtractionResult(lines=lines, confidence=min((x.confidence for x in lines), default=0),
                                        wanted_date=answer.wanted_date, address_hint=answer.address,
                                        not_understood=parts)
    return result


def _counted(result: extractor.ExtractionResult) -> Counter:
    return Counter((line.entry.key if line.entry else None, line.quantity) for line in result.lines)


def _reading_summary(result: extractor.ExtractionResult, provider: str) -> dict:
    return {"provider": provider, "kind": result.kind,
            "lines": [{"sku": x.entry.sku if x.entry else None, "title": x.entry.name if x.entry else "",
                       "quantity": x.quantity, "unit": x.unit} for x in result.lines],
            "not_understood": [{"text": p["text"], "reason": p["reason"]} for p in result.not_understood]}


def compare(offline: extractor.ExtractionResult, model: extractor.ExtractionResult, provider: str
            ) -> tuple[extractor.ExtractionResult, dict | None]:
    """The reading to keep and, when the two disagree, the offline one to show beside it."""
    if _counted(offline) == _counted(model) and not model.not_understood:
        offline.wanted_date = model.wanted_date or offline.wanted_date
        offline.address_hint = model.address_hint or offline.address_hint
        return offline, None
    model.kind = offline.kind
    model.one_click = False
    model.not_understood = list(model.not_understood) + [
        {"text": "", "start": None, "end": None, "reason": "The text model and the offline reader disagree: "
         "compare both readings.", "quantity": None, "unit": "", "candidates": []}]
    model.reasons = ["The text model and the offline reader read this message differently."]
    return model, _reading_summary(offline, "offline")


def last_order_lines(org_id: int, customer_id: int | None) -> tuple[Order | None, list[tuple[int, int]]]:
    """The customer's latest order that went through, as (item id, quantity) pairs."""
    if customer_id is None:
        return None, []
    order = db.session.scalar(select(Order).where(
        Order.organisation_id == org_id, Order.customer_id == customer_id,
        Order.status.notin_([OrderStatus.DRAFT, OrderStatus.CANCELLED])).order_by(Order.created_at.desc()).limit(1))
    if order is None:
        return None, []
    return order, [(line.item_id, line.quantity) for line in order.lines]


def _read(message: Message, entries: list[CatalogueEntry], threshold: int):
    """(result, provider, note, the other reading when the model disagreed)."""
    text = "\n".join(filter(None, [message.subject, message.body]))
    catalogue = Catalogue(entries)
    offline = extractor.extract(text, message.created_at, entries, threshold, catalogue=catalogue)
    answer, note = _ask_model(message)
    if answer is None:
        return offline, "offline", note, None
    provider = text_model.provider_name()
    chosen, other = compare(offline, model_result(answer, catalogue), provider)
    if other is None:
        note = "The text model and the offline reader agree."
    return chosen, provider, note, other


def _lines(result: extractor.ExtractionResult, org_id: int) -> tuple[list[ExtractedLine], list[dict]]:
    """Matched lines, then a line without a product for each part that carries a quantity."""
    lines = [ExtractedLine(organisation_id=org_id, position=n, quantity=line.quantity, unit=line.unit,
                           product_text=line.product_text, item_id=item_id_of(line.entry), confidence=line.confidence,
                           evidence=line.evidence, status="matched" if line.entry is not None else "unmatched")
             for n, line in enumerate(result.lines, start=1)]
    parts = []
    for index, part in enumerate(result.not_understood):
        part = {**part, "index": index}
        if part.get("quantity"):
            lines.append(ExtractedLine(
                organisation_id=org_id, position=len(lines) + 1, quantity=part["quantity"], unit=part.get("unit") or "",
                product_text=(part.get("words") or part.get("text") or "")[:300], item_id=None, confidence=0,
                status="unmatched",
                evidence={"method": "not understood", "part": index, "reason": part["reason"],
                          "candidates": part.get("candidates") or []}))
        parts.append(part)
    return lines, parts


def _usual(extraction: Extraction, result: extractor.ExtractionResult, parts: list[dict]) -> None:
    """“The usual”: the customer's last order, proposed as lines a person must check."""
    message = extraction.message
    order, pairs = last_order_lines(message.organisation_id, message.conversation.customer_id)
    reason = (f"“{result.usual}”: the lines of order {order.number} are proposed; check them." if order
              else f"“{result.usual}”: this customer has no earlier order to repeat.")
    parts.append({"text": result.usual, "start": None, "end": None, "reason": reason, "quantity": None, "unit": "",
                  "candidates": [], "index": len(parts)})
    for item_id, quantity in pairs:
        extraction.lines.append(ExtractedLine(
            organisation_id=message.organisation_id, position=len(extraction.lines) + 1, quantity=quantity,
            unit="", product_text=result.usual[:300], item_id=item_id, confidence=0, status="suggested",
            evidence={"method": "last order", "order_number": order.number}))


def extraction_run(*, message_id: int) -> Extraction | None:
    """Read an inbound message (once): its kind, its lines, what was not understood; one click only when sure."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != Direction.IN:
        return None
    existing = db.session.scalar(select(Extraction).where(Extraction.message_id == message.id))
    if existing is not None:
        return existing
    org = db.session.get(Organisation, message.organisation_id)
    threshold = org.review_threshold if org else 80
    result, provider, note, other = _read(message, catalogue_with_aliases(message.organisation_id), threshold)
    message = db.session.get(Message, message_id)
    status = ExtractionStatus.READY if result.one_click and other is None else ExtractionStatus.REVIEW
    lines, parts = _lines(result, message.organisation_id)
    extraction = Extraction(organisation_id=message.organisation_id, message=message, status=status,
                            confidence=result.confidence, provider=provider, provider_note=note,
                            wanted_date=result.wanted_date, wanted_text=result.wanted_text[:120],
                            address_hint=result.address_hint[:1000], reasons=list(result.reasons), kind=result.kind,
                            other_reading=other, lines=lines)
    if result.usual:
        _usual(extraction, result, parts)
    extraction.not_understood = parts
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
    announce(extraction)
    db.session.commit()
    log.info("inbox: message %s read by %s: %s, %d lines, %d not understood, confidence %d, %s", message_id,
             provider, result.kind, len(result.lines), len(parts), result.confidence, status.value)
    return extraction


def announce(extraction: Extraction) -> None:
    publish_after_commit(extraction.organisation_id, REVIEW_EVENT, {"extraction_id": extraction.id})
    publish_after_commit(extraction.organisation_id, CONVERSATION_EVENT,
                         {"conversation_id": extraction.message.conversation_id})
