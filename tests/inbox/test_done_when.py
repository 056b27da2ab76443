"""The issue's acceptance list: a signed order message becomes one-click order with reserved stock;
a vague one goes to review; bad signatures store nothing; repeated ids store once."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.inbox.models import Conversation, Message
from app.inbox.review_models import Extraction, ExtractionStatus
from app.inventory.models import Item
from app.orders.models import Order
from tests.inbox.helpers import channel, make_catalogue, post_json, post_twilio, twilio_channel


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_signed_order_message_becomes_an_order_with_reserved_stock(app, org, staff, client, client_for, run_jobs):
    items = make_catalogue(org.id)
    config = channel(org.id)
    text = "Hi, please send 3 boxes of Silver Hoop Earrings and 2 Gold Chain Necklace by Friday"
    response = post_json(client, config, {"id": "wamid-1", "from": "+44 7700 900123", "text": text,
                                          "channel": "whatsapp", "name": "Ann Buyer"})
    assert response.status_code == 201, response.get_data(as_text=True)
    conversation = db.session.scalar(select(Conversation))
    assert conversation.customer.name == "Ann Buyer" and conversation.unread_count == 1
    assert conversation.channel.value == "whatsapp"

    assert run_jobs() >= 1
    extraction = db.session.scalar(select(Extraction))
    assert extraction.status == ExtractionStatus.READY
    lines = extraction.active_lines
    assert [(line.item_id, line.quantity) for line in lines] == [(items["EAR-100"].id, 3), (items["NEC-200"].id, 2)]
    assert all(line.confidence >= 90 for line in lines)
    assert lines[0].evidence["matched"] == "Silver Hoop Earrings"
    assert extraction.wanted_date is not None and extraction.wanted_date.weekday() == 4
    assert extraction.message.processed

    staff_client = client_for(staff)
    page = staff_client.get(f"/inbox/c/{conversation.id}")
    assert b"Create order and reserve stock" in page.data
    response = staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm")
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    order = db.session.scalar(select(Order))
    assert order is not None and order.status.value == "confirmed"
    assert order.customer_id == conversation.customer_id and order.source == "inbox-whatsapp"
    assert sorted((line.item_id, line.quantity) for line in order.lines) == sorted(
        [(items["EAR-100"].id, 3), (items["NEC-200"].id, 2)])
    assert db.session.get(Item, items["EAR-100"].id).reserved == 3
    assert db.session.get(Item, items["NEC-200"].id).reserved == 2
    extraction = db.session.get(Extraction, extraction.id)
    assert extraction.status == ExtractionStatus.CONFIRMED and extraction.order_id == order.id
    assert f"/orders/{order.id}".encode() in response.data

    again = staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm")
    assert again.status_code == 409
    assert _count(Order) == 1


def test_vague_message_goes_to_review(app, org, client, admin_client, run_jobs):
    make_catalogue(org.id)
    response = post_json(client, channel(org.id), {"id": "m-usual", "from": "+15550100", "text": "the usual please"})
    assert response.status_code == 201
    run_jobs()
    extraction = db.session.scalar(select(Extraction))
    assert extraction.status == ExtractionStatus.REVIEW and extraction.confidence == 0
    assert extraction.kind == "order" and "usual" in extraction.reasons[0]
    assert "no earlier order" in extraction.not_understood[0]["reason"]
    assert "Create order and reserve stock" not in admin_client.get("/inbox/review").get_data(as_text=True)
    queue = admin_client.get("/inbox/review")
    assert b"the usual please" in queue.data


def test_bad_signatures_are_refused_and_nothing_is_stored(app, org, client):
    config = channel(org.id)
    number = twilio_channel(org.id)
    assert post_json(client, config, {"id": "x1", "from": "+1555", "text": "3 boxes"}, secret="wrong").status_code == 403
    params = {"MessageSid": "SM1", "From": "+15550001", "To": "+15559999", "Body": "2 bracelets"}
    assert post_twilio(client, number, params, token="not-the-token").status_code == 403
    no_header = client.post(number.hook_url, data=params, csrf=False)
    assert no_header.status_code == 403
    assert post_twilio(client, number, params, header="\u00e9\u00e9\u00e9").status_code == 403  # non-ASCII: 403, not 500
    assert client.post("/hooks/no-such-token/json", data=b"{}", csrf=False).status_code == 404
    assert client.post("/hooks/ch/no-such-token/twilio", data=params, csrf=False).status_code == 404
    db.session.expire_all()
    assert _count(Message) == 0 and _count(Conversation) == 0


def test_repeated_external_id_is_stored_once(app, org, client):
    config = channel(org.id)
    payload = {"id": "dup-1", "from": "+15550002", "text": "2 Rose Quartz Bracelet"}
    assert post_json(client, config, payload).status_code == 201
    second = post_json(client, config, payload)
    assert second.status_code == 200 and second.get_json()["duplicate"] is True
    number = twilio_channel(org.id)
    params = {"MessageSid": "SMdup", "From": "+15550002", "To": "+15559999", "Body": "2 bracelets"}
    assert post_twilio(client, number, params).status_code == 200
    assert post_twilio(client, number, params).status_code == 200
    db.session.expire_all()
    assert _count(Message) == 2
    conversation = db.session.scalar(select(Conversation))
    assert conversation.unread_count == 2  # one per stored message, not per delivery
