"""Small things a new user trips over in the first hour: each answered on its own page, worded right."""
from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from app.batches.models import Batch
from app.extensions import db
from app.inventory import imports
from tests.batches.helpers import PRODUCTS_CSV, batch_id_from, upload, upload_and_start
from tests.conftest import FIXTURES


def test_an_uploaded_batch_never_started_can_be_discarded(manager_client, staff_client):
    batch_id = batch_id_from(upload(manager_client, PRODUCTS_CSV.encode()))
    listing = manager_client.get("/batches/").get_data(as_text=True)
    assert f'data-testid="discard-{batch_id}"' in listing
    assert 'data-testid="discard-batch"' in manager_client.get(f"/batches/{batch_id}/mapping").get_data(as_text=True)
    assert staff_client.post(f"/batches/{batch_id}/discard").status_code == 403
    response = manager_client.post(f"/batches/{batch_id}/discard")
    assert response.status_code == 302 and response.headers["Location"].endswith("/batches/")
    assert db.session.get(Batch, batch_id) is None
    assert manager_client.post(f"/batches/{batch_id}/discard").status_code == 404


def test_a_started_batch_cannot_be_discarded(manager_client):
    batch = upload_and_start(manager_client, PRODUCTS_CSV.encode(), mapping={"title": "Product Name"})
    response = manager_client.post(f"/batches/{batch.id}/discard", follow_redirects=True)
    assert b"Only a batch that has not started can be discarded" in response.data
    assert db.session.get(Batch, batch.id) is not None


def test_batch_results_keep_the_unmapped_columns(manager_client, run_jobs):
    batch = upload_and_start(manager_client, PRODUCTS_CSV.encode(), mapping={"title": "Product Name", "mpn": "MPN"})
    run_jobs()
    table = list(csv.reader(io.StringIO(manager_client.get(f"/batches/{batch.id}/results.csv").get_data(as_text=True))))
    header = table[0]
    for column in ("Country of origin", "Category", "Size", "Description", "Supplier note"):
        assert column in header
    first = dict(zip(header, table[1]))
    assert first["Country of origin"] == "Poland" and first["Supplier note"] == "keep dry"


def test_one_menu_entry_is_highlighted_on_listing_pages(manager_client):
    for path, label in (("/listings", "Listings"), ("/price-lists", "Price lists")):
        page = manager_client.get(path).get_data(as_text=True)
        current = re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', page)
        assert current == [label], (path, current)


def test_import_with_invalid_rows_answers_on_its_own_page(org, manager, manager_client):
    data = (FIXTURES / "aliexpress" / "malformed-orders.json").read_bytes()
    record = imports.supplier_import_preview(org_id=org.id, by=manager, data=data, filename="malformed.json")
    assert record.error_rows
    response = manager_client.post(f"/inventory/imports/{record.id}/confirm", data={})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-testid="confirm-error"' in body
    assert "Import only the valid rows" in body and f"Import #{record.id}" in body  # the same page, not an error page


def test_shopify_export_with_nothing_ticked_answers_on_the_list(manager_client):
    response = manager_client.get("/listings/export?format=shopify")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-testid="export-error"' in body
    assert "Select at least one product to export." in body and "<h1>Listings</h1>" in body


def test_inbox_card_wording_without_lines(app, org, manager_client):
    from flask import render_template

    with app.test_request_context():
        from flask_login import login_user

        from app.core.models import User
        login_user(db.session.scalar(select(User).where(User.organisation_id == org.id).limit(1)))
        card = {"key": "inbox", "title": "Inbox", "events": (), "extra": {}}
        html = render_template("inbox/_card.html", card=type("C", (), card)(), unread_conversations=1,
                               review_lines=0, review_messages=1, ready_messages=0)
    text = " ".join(html.split())
    assert "0 lines awaiting review in 1 message" not in re.sub(r"<[^>]+>", "", text)
    assert "read from the 1 message awaiting review" in text


def test_a_line_added_by_hand_shows_no_empty_quote(app, org, client, staff_client, run_jobs):
    from app.inbox.review_models import Extraction
    from tests.inbox.helpers import channel, make_catalogue, post_json

    items = make_catalogue(org.id)
    post_json(client, channel(org.id), {"id": "h-1", "from": "+15550009", "text": "the usual please", "name": "Rae"})
    run_jobs()
    extraction = db.session.scalar(select(Extraction).order_by(Extraction.id.desc()))
    page = staff_client.get(f"/inbox/x/{extraction.id}").get_data(as_text=True)
    assert 'data-testid="create-order-disabled"' in page and 'aria-describedby="order-blocked-' in page
    response = staff_client.htmx("post", f"/inbox/x/{extraction.id}/lines",
                                 data={"item_id": str(items["NEC-200"].id), "quantity": "1"})
    body = response.get_data(as_text=True)
    assert "“”" not in body and "added by hand" in body
    assert db.session.scalar(select(func.count()).select_from(Extraction)) == 1


def test_empty_pages_say_what_they_are_for_and_offer_the_first_action(manager_client):
    pages = {"/inventory/": ('data-testid="inventory-empty"', 'href="/inventory/imports"'),
             "/products/": ('data-testid="board-empty"', 'href="/products/new"'),
             "/inventory/prices": ("No items yet.", 'href="/inventory/imports"'),
             "/inventory/imports": ("No import yet. Upload", 'type="file"'),
             "/orders/": ("No orders yet. Create the first one", 'href="/orders/new"')}
    for path, expected in pages.items():
        body = manager_client.get(path).get_data(as_text=True)
        for text in expected:
            assert text in body, (path, text)


def test_more_empty_pages_say_what_they_are_for(admin_client):
    pages = {"/techfiles/": ("No collections yet. A collection is one tech pack",),
             "/alerts": ("No alerts yet. An alert tells you", 'href="/alerts/settings"'),
             "/inbox/customers": ("No customers yet. A customer is added with the first message",),
             "/inbox/customers?q=zz-nobody": ("No customer matches “zz-nobody”.",),
             "/inbox/settings/webhooks": ("No webhooks yet. A webhook sends order and message events",),
             "/admin/audit?object_type=order": ("Nothing recorded for order yet.",)}
    for path, expected in pages.items():
        body = admin_client.get(path).get_data(as_text=True)
        for text in expected:
            assert text in body, (path, text)
