"""Holds from the item page: units put aside by hand, refused holds explained with the input kept."""
from __future__ import annotations

from app.extensions import db
from app.inventory.models import HoldStatus, StockHold
from tests.orders.helpers import make_item, stock_of


def test_hold_and_release_from_the_item_page(staff_client, org):
    item = make_item(org.id, "HD-1", stock=3)
    response = staff_client.post(f"/inventory/items/{item.id}/holds", data={"quantity": "5", "reason": "Ana, Friday"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "3 available, 5 requested" in page and 'value="Ana, Friday"' in page
    response = staff_client.post(f"/inventory/items/{item.id}/holds", data={"quantity": "two", "reason": "Ana"})
    assert response.status_code == 422 and "whole number" in response.get_data(as_text=True)
    assert stock_of(item.id) == (3, 0)
    assert staff_client.post(f"/inventory/items/{item.id}/holds",
                             data={"quantity": "2", "reason": "Ana, Friday"}).status_code == 302
    assert stock_of(item.id) == (3, 2)
    hold = db.session.query(StockHold).one()
    assert "Ana, Friday" in staff_client.get(f"/inventory/items/{item.id}").get_data(as_text=True)
    assert staff_client.post(f"/inventory/items/{item.id}/holds/{hold.id}/release").status_code == 302
    db.session.expire_all()
    assert stock_of(item.id) == (3, 0) and db.session.get(StockHold, hold.id).status == HoldStatus.RELEASED


def test_attributes_and_pictures_from_the_item_page(manager_client, staff_client, org):
    import io

    from PIL import Image

    item = make_item(org.id, "AT-1", stock=1)
    response = manager_client.post(f"/inventory/items/{item.id}/attributes", data={"attributes": "metal: silver\noops"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Line 2" in page and "metal: silver\noops" in page
    assert manager_client.post(f"/inventory/items/{item.id}/attributes",
                               data={"attributes": "metal: silver\n\nlength :  45 cm"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(item), item.id).attributes == {"metal": "silver", "length": "45 cm"}
    assert staff_client.post(f"/inventory/items/{item.id}/attributes", data={"attributes": "a: b"}).status_code == 403
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(png, "PNG")
    response = manager_client.post(f"/inventory/items/{item.id}/images", content_type="multipart/form-data",
                                   data={"images": [(io.BytesIO(png.getvalue()), "front.png"),
                                                    (io.BytesIO(b"GIF89a broken"), "broken.gif")]})
    assert response.status_code == 422 and "broken.gif" in response.get_data(as_text=True)
    response = manager_client.post(f"/inventory/items/{item.id}/images", content_type="multipart/form-data",
                                   data={"images": [(io.BytesIO(png.getvalue()), "front.png")]})
    assert response.status_code == 302
    page = staff_client.get(f"/inventory/items/{item.id}").get_data(as_text=True)
    assert "front.png" in page
    from app.inventory.models import ItemImage

    image = db.session.query(ItemImage).one()
    assert staff_client.get(f"/inventory/items/{item.id}/images/{image.id}").mimetype == "image/png"
