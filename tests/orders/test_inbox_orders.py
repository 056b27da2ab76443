"""An order read from a customer's message: the wanted date becomes its due date, and one `order.created`
webhook names the message (the same event stream as orders made on /orders/new)."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.inbox import webhooks_out
from app.inbox.review_models import Extraction, WebhookDelivery
from app.orders.models import Order
from tests.inbox.helpers import channel, make_catalogue, post_json


def test_the_wanted_date_becomes_the_due_date_and_one_webhook_fires(app, org, staff, client, staff_client, run_jobs):
    make_catalogue(org.id)
    webhooks_out.endpoint_create(org_id=org.id, url="http://127.0.0.1:9/hook",
                                 events=["order.created", "order.confirmed"], by=staff)
    post_json(client, channel(org.id), {"id": "w-1", "from": "+15550009", "text": "2 Rose Quartz Bracelet by Friday",
                                        "name": "Rae"})
    run_jobs()
    extraction = db.session.scalar(select(Extraction))
    staff_client.htmx("post", f"/inbox/x/{extraction.id}/date", data={"wanted_date": "2026-12-31"})
    response = staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm")
    assert response.status_code == 200, response.get_data(as_text=True)
    order = db.session.scalar(select(Order))
    assert order.due_date.isoformat() == "2026-12-31" and "Wanted by" not in order.notes
    deliveries = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [d.event for d in deliveries] == ["order.created", "order.confirmed"]
    assert deliveries[0].payload["data"]["message_id"] == extraction.message_id
    assert deliveries[0].payload["data"]["due_date"] == "2026-12-31"
