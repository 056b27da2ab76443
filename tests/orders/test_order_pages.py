"""Order pages for production, parcels, payment, edits, settings and designs: roles, other organisations,
inline errors with the input kept, and the order webhooks fired for orders made on /orders/new."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from app.core.models import Role
from app.extensions import db
from app.inbox import webhooks_out
from app.inbox.review_models import WebhookDelivery
from app.orders import designs, services
from app.orders.models import Design, Order, OrderAmendment
from app.orders.statuses import LineStatus
from tests.orders.helpers import make_item, make_order, stock_of


@pytest.fixture
def confirmed(org, staff):
    item = make_item(org.id, "CH-45", stock=5, title="Gold chain")
    order = make_order(org.id, [(item, 3)])
    services.order_confirm(org_id=org.id, order_id=order.id, by=staff)
    return db.session.get(Order, order.id)


def _png(size=(400, 300), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def test_production_and_a_parcel_from_the_order_page(staff_client, confirmed):
    line = confirmed.lines[0]
    response = staff_client.post(f"/orders/{confirmed.id}/lines/{line.id}/production", data={"to": "made"},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'data-testid="order-live"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, confirmed.id).lines[0].production_status == LineStatus.MADE
    response = staff_client.post(f"/orders/{confirmed.id}/shipments", headers={"HX-Request": "true"},
                                 data={f"ship-{line.id}": "2", "carrier": "DHL", "tracking_number": "JD-77"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Partly shipped" in page and "JD-77" in page
    slip = staff_client.get(f"/orders/{confirmed.id}/shipments/1/packing-slip.pdf")
    assert slip.status_code == 200 and slip.mimetype == "application/pdf"
    assert staff_client.get(f"/orders/{confirmed.id}/shipments/2/packing-slip.pdf").status_code == 404


def test_a_refused_parcel_explains_itself_and_keeps_what_was_typed(staff_client, confirmed):
    line = confirmed.lines[0]
    for headers in ({"HX-Request": "true"}, {}):
        response = staff_client.post(f"/orders/{confirmed.id}/shipments", headers=headers,
                                     data={f"ship-{line.id}": "9", "carrier": "DHL", "tracking_number": "KEEP-ME"})
        page = response.get_data(as_text=True)
        assert response.status_code == 409
        assert "only 3 left to ship, not 9" in page and 'value="KEEP-ME"' in page and 'value="9"' in page
    assert stock_of(line.item_id) == (5, 3)


def test_payment_and_due_date_from_the_order_page(staff_client, confirmed, staff):
    response = staff_client.post(f"/orders/{confirmed.id}/payment", data={"to": "paid"})
    assert response.status_code == 302
    response = staff_client.post(f"/orders/{confirmed.id}/due-date", data={"due_date": "31/12/2026"})
    assert response.status_code == 422 and "YYYY-MM-DD" in response.get_data(as_text=True)
    staff_client.post(f"/orders/{confirmed.id}/due-date", data={"due_date": "2026-12-31"})
    db.session.expire_all()
    order = db.session.get(Order, confirmed.id)
    assert order.payment_by_id == staff.id and order.due_date.isoformat() == "2026-12-31"
    assert "Marked paid" not in staff_client.get(f"/orders/{order.id}").get_data(as_text=True)


def test_amending_a_confirmed_order_is_all_or_nothing(staff_client, org, confirmed):
    line = confirmed.lines[0]
    form = {"revision": str(confirmed.revision), "note": "customer wants more",
            f"line-l{line.id}-item_id": str(line.item_id), f"line-l{line.id}-line_id": str(line.id),
            f"line-l{line.id}-quantity": "9"}
    response = staff_client.post(f"/orders/{confirmed.id}/edit", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "Insufficient stock for SKU CH-45" in page and 'value="9"' in page
    assert stock_of(line.item_id) == (5, 3) and db.session.scalar(select(OrderAmendment)) is None
    form[f"line-l{line.id}-quantity"] = "4"
    assert staff_client.post(f"/orders/{confirmed.id}/edit", data=form).status_code == 302
    assert stock_of(line.item_id) == (5, 4)
    amendment = db.session.scalar(select(OrderAmendment))
    assert amendment.stock == {"reserved": {"CH-45": 1}, "released": {}} and amendment.note == "customer wants more"
    # the same page sent again (an older revision) is refused rather than undoing the change
    response = staff_client.post(f"/orders/{confirmed.id}/edit", data=form)
    assert response.status_code == 409 and "changed meanwhile" in response.get_data(as_text=True)


def test_reservation_setting_is_for_managers(client_for, org, make_user):
    staff = client_for(make_user(org, Role.STAFF))
    manager = client_for(make_user(org, Role.MANAGER))
    assert staff.get("/orders/settings").status_code == 403
    assert staff.post("/orders/settings", data={"reservation_hours": "1"}).status_code == 403
    response = manager.post("/orders/settings", data={"reservation_hours": "-3"})
    assert response.status_code == 422 and 'value="-3"' in response.get_data(as_text=True)
    assert manager.post("/orders/settings", data={"reservation_hours": "36"}).status_code == 302
    assert 'value="36"' in manager.get("/orders/settings").get_data(as_text=True)


def test_the_webhook_fires_for_an_order_made_on_the_new_order_page(staff_client, org, staff):
    item = make_item(org.id, "WH-1", stock=2)
    webhooks_out.endpoint_create(org_id=org.id, url="http://127.0.0.1:9/hook",
                                 events=["order.created", "order.confirmed", "order.shipped"], by=staff)
    response = staff_client.post("/orders/new", data={
        "customer_name": "Ana", "tax_rate": "0", "shipping": "0", "due_date": "2026-12-24",
        "line-a-item_id": str(item.id), "line-a-quantity": "1"})
    assert response.status_code == 302
    order = db.session.scalar(select(Order))
    assert order.due_date.isoformat() == "2026-12-24"
    services.order_confirm(org_id=org.id, order_id=order.id, by=staff)
    deliveries = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [d.event for d in deliveries] == ["order.created", "order.confirmed"]
    assert deliveries[0].payload["data"]["number"] == order.number
    assert deliveries[0].payload["data"]["due_date"] == "2026-12-24"


def test_a_bad_due_date_on_the_new_order_page_is_explained(staff_client, org):
    item = make_item(org.id, "DD-1", stock=2)
    response = staff_client.post("/orders/new", data={
        "customer_name": "Ana", "tax_rate": "0", "shipping": "0", "due_date": "next friday",
        "line-a-item_id": str(item.id), "line-a-quantity": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "YYYY-MM-DD" in page and 'value="next friday"' in page
    assert db.session.scalar(select(Order)) is None


def test_a_design_with_a_picture_its_versions_and_privacy(client_for, org, make_user):
    owner, other, manager = (make_user(org, r) for r in (Role.STAFF, Role.STAFF, Role.MANAGER))
    item = make_item(org.id, "DS-2", stock=1)
    owner_client = client_for(owner)
    response = owner_client.post("/orders/designs", content_type="multipart/form-data", data={
        "name": "Heart", "product_item_id": str(item.id), "engraving": "A+B",
        "images": [(io.BytesIO(_png()), "heart.png")]})
    assert response.status_code == 302
    design = db.session.scalar(select(Design))
    assert design.owner_id == owner.id and design.public is False and len(design.images) == 1
    image = design.images[0]
    assert owner_client.get(f"/orders/designs/{design.id}/images/{image.id}").mimetype == "image/png"
    # private: another person of the organisation does not see it at all
    assert client_for(other).get(f"/orders/designs/{design.id}").status_code == 404
    assert "Heart" not in client_for(other).get("/orders/designs").get_data(as_text=True)
    # a bad picture refuses the upload and says why; the design stays as it was
    response = owner_client.post(f"/orders/designs/{design.id}/images", content_type="multipart/form-data",
                                 data={"images": [(io.BytesIO(b"not an image"), "notes.jpg")],
                                       "version": str(design.version)})
    assert response.status_code == 422 and "notes.jpg" in response.get_data(as_text=True)
    response = owner_client.post(f"/orders/designs/{design.id}", data={
        "version": "1", "name": "Heart 2", "product_item_id": str(item.id), "engraving": "A+B", "public": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    design = db.session.get(Design, design.id)
    assert design.version == 2 and design.public and design.versions[0].snapshot["name"] == "Heart"
    # an edit from the page as it was before (version 1) is refused, not overwritten
    response = client_for(manager).post(f"/orders/designs/{design.id}", data={
        "version": "1", "name": "Heart 3", "product_item_id": str(item.id), "public": "y"})
    assert response.status_code == 409 and "changed this design meanwhile" in response.get_data(as_text=True)
    # "order this design" prefills the new order
    page = client_for(other).get(f"/orders/new?design_id={design.id}").get_data(as_text=True)
    assert 'value="A+B"' in page and "DS-2" in page
    assert designs.can_edit(design, other) is False
