"""Review: fixing lines with the picker, feedback, rejection, and stock running out."""
from __future__ import annotations

from sqlalchemy import func, select

from app.core.models import AuditEntry
from app.extensions import db
from app.inbox.review_models import ExtractedLine, Extraction, ExtractionFeedback, ExtractionStatus
from app.inventory.models import Item
from app.orders.models import Order
from tests.inbox.helpers import channel, make_catalogue, post_json


def _message(client, run_jobs, org_id: int, text: str, ident: str = "r-1") -> Extraction:
    post_json(client, channel(org_id), {"id": ident, "from": "+15550004", "text": text, "name": "Rae"})
    run_jobs()
    return db.session.scalar(select(Extraction).order_by(Extraction.id.desc()))


def test_fixing_a_line_stores_feedback_and_teaches_an_alias(app, org, client, staff_client, run_jobs):
    items = make_catalogue(org.id)
    extraction = _message(client, run_jobs, org.id, "4 boxes of moonlight loops")
    assert extraction.status == ExtractionStatus.REVIEW
    line = extraction.lines[0]
    assert line.item_id is None and line.status == "unmatched"
    assert extraction.not_understood[0]["quantity"] == 4 and not extraction.can_confirm
    blocked = staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm")
    assert blocked.status_code == 409 and b"not understood yet" in blocked.data

    response = staff_client.htmx("post", f"/inbox/lines/{line.id}",
                                 data={"item_id": str(items["EAR-100"].id), "quantity": "5"})
    assert response.status_code == 200 and b"EAR-100" in response.data
    assert b"Create order and reserve stock" in response.data  # the completed line resolved its part
    feedback = db.session.scalar(select(ExtractionFeedback))
    assert feedback.original == {"item_id": None, "quantity": 4, "unit": "box", "status": "unmatched"}
    assert feedback.corrected["item_id"] == items["EAR-100"].id and feedback.corrected["quantity"] == 5
    assert feedback.product_text == "moonlight loops"

    later = _message(client, run_jobs, org.id, "2 moonlight loops please", ident="r-2")
    assert later.lines[0].item_id == items["EAR-100"].id and later.lines[0].evidence["method"] == "alias"


def test_add_and_remove_lines_then_confirm(app, org, client, staff_client, run_jobs):
    items = make_catalogue(org.id)
    extraction = _message(client, run_jobs, org.id, "2 Rose Quartz Bracelet and 3 purple widgets")
    unknown = next(x for x in extraction.lines if x.item_id is None)
    staff_client.htmx("post", f"/inbox/lines/{unknown.id}/remove")
    staff_client.htmx("post", f"/inbox/x/{extraction.id}/lines", data={"item_id": str(items["NEC-200"].id),
                                                                      "quantity": "1"})
    bad = staff_client.htmx("post", f"/inbox/x/{extraction.id}/lines", data={"item_id": "999999", "quantity": "1"})
    assert bad.status_code == 422
    response = staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm")
    assert response.status_code == 200, response.get_data(as_text=True)
    order = db.session.scalar(select(Order))
    assert sorted((x.item_id, x.quantity) for x in order.lines) == sorted(
        [(items["BR-300"].id, 2), (items["NEC-200"].id, 1)])
    assert db.session.scalar(select(func.count(ExtractionFeedback.id))) == 2


def test_not_enough_stock_says_so_and_writes_nothing(app, org, client, staff_client, run_jobs):
    items = make_catalogue(org.id)
    extraction = _message(client, run_jobs, org.id, "9 Rose Quartz Bracelet")  # only 5 in stock
    response = staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm")
    assert response.status_code == 409
    assert b"Insufficient stock for SKU BR-300: 5 available, 9 requested" in response.data
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Order.id))) == 0
    assert db.session.get(Item, items["BR-300"].id).reserved == 0
    assert db.session.get(Extraction, extraction.id).status in (ExtractionStatus.READY, ExtractionStatus.REVIEW)


def test_reject_needs_and_keeps_a_reason(app, org, client, staff_client, run_jobs):
    make_catalogue(org.id)
    extraction = _message(client, run_jobs, org.id, "the usual please")
    assert staff_client.htmx("post", f"/inbox/x/{extraction.id}/reject", data={"reason": ""}).status_code == 422
    response = staff_client.htmx("post", f"/inbox/x/{extraction.id}/reject", data={"reason": "Asked by phone"})
    assert response.status_code == 200 and b"Asked by phone" in response.data
    db.session.expire_all()
    row = db.session.get(Extraction, extraction.id)
    assert row.status == ExtractionStatus.REJECTED and row.reject_reason == "Asked by phone"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "extraction.reject"))
    line_free = staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm")
    assert line_free.status_code == 409


def test_extraction_runs_once_per_message(app, org, client, run_jobs):
    from app.inbox import review

    make_catalogue(org.id)
    extraction = _message(client, run_jobs, org.id, "2 Rose Quartz Bracelet")
    assert review.extraction_run(message_id=extraction.message_id).id == extraction.id
    assert db.session.scalar(select(func.count(ExtractedLine.id))) == 1


def test_item_without_price_is_refused_cleanly(app, org, client, staff_client, run_jobs):
    from app.inventory.services import item_create

    item_create(org_id=org.id, by=None, initial_stock=10, sku="NP-1", title="Unpriced Anklet")
    extraction = _message(client, run_jobs, org.id, "2 Unpriced Anklet")
    response = staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm")
    assert response.status_code == 422 and b"has no price" in response.data
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Order.id))) == 0
    assert db.session.get(Extraction, extraction.id).is_open


def test_stock_taken_between_check_and_reservation_leaves_no_live_order(app, org, staff, client, run_jobs,
                                                                        monkeypatch):
    from app.core.errors import Conflict
    from app.inbox import review

    items = make_catalogue(org.id)
    extraction = _message(client, run_jobs, org.id, "9 Rose Quartz Bracelet")  # only 5 in stock
    monkeypatch.setattr(review, "_check_stock", lambda org_id, lines: None)  # as if stock left meanwhile
    try:
        review.extraction_confirm(org_id=org.id, extraction_id=extraction.id, by=staff)
    except Conflict as exc:
        assert "Insufficient stock for SKU BR-300" in exc.message
    else:
        raise AssertionError("expected InsufficientStock")
    db.session.expire_all()
    orders = db.session.scalars(select(Order)).all()
    assert [o.status.value for o in orders] == ["cancelled"]  # the draft was undone, nothing holds stock
    assert db.session.get(Item, items["BR-300"].id).reserved == 0
    row = db.session.get(Extraction, extraction.id)
    assert row.is_open and row.order_id is None


def test_wanted_date_can_be_corrected(app, org, client, staff_client, run_jobs):
    make_catalogue(org.id)
    extraction = _message(client, run_jobs, org.id, "2 Rose Quartz Bracelet by Friday")
    assert staff_client.htmx("post", f"/inbox/x/{extraction.id}/date", data={"wanted_date": "31/12"}).status_code == 422
    response = staff_client.htmx("post", f"/inbox/x/{extraction.id}/date", data={"wanted_date": "2026-12-31"})
    assert response.status_code == 200 and b"2026-12-31" in response.data
    feedback = db.session.scalar(select(ExtractionFeedback).order_by(ExtractionFeedback.id.desc()))
    assert feedback.corrected == {"wanted_date": "2026-12-31"} and feedback.original["wanted_date"]
