"""A customer's photo goes to the product pipeline in one click: fetched from the provider with the
channel's credentials, within the size limit, through the pipeline's own upload checks."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.inbox.models import Message
from app.pipeline.models import Product
from tests.conftest import FIXTURES
from tests.inbox.helpers import TWILIO_SID, post_twilio, twilio_channel
from tests.inbox.standins import HTTPStandIn

PHOTO = (FIXTURES / "pipeline" / "ean13-9780140013993.webp").read_bytes()


def _photo_message(client, org_id: int, url: str, content_type: str = "image/webp") -> Message:
    row = twilio_channel(org_id, kind="whatsapp")
    params = {"MessageSid": "SMphoto", "From": "whatsapp:+447700900123", "To": "whatsapp:+15559990000",
              "Body": "this one please", "NumMedia": "1", "MediaUrl0": url, "MediaContentType0": content_type}
    assert post_twilio(client, row, params).status_code == 200
    return db.session.scalar(select(Message))


def test_photo_goes_to_the_pipeline_in_one_click(app, org, client, staff_client, run_jobs):
    files = {"/media/ME1": ("image/webp", PHOTO)}
    with HTTPStandIn(files=files) as media:
        message = _photo_message(client, org.id, f"{media.url}/media/ME1")
        page = staff_client.htmx("post", f"/inbox/messages/{message.id}/attachments/0/pipeline").get_data(as_text=True)
        assert "fetching for the product pipeline" in page
        assert staff_client.post(f"/inbox/messages/{message.id}/attachments/0/pipeline").status_code == 409
        run_jobs(max_jobs=2)  # the fetch (the new product's own phases are not this test's business)
    assert media.requests[0]["headers"]["Authorization"].startswith("Basic ")  # the account's credentials
    product = db.session.scalar(select(Product))
    assert product is not None and product.images[0].size_bytes == len(PHOTO)
    db.session.expire_all()
    outcome = db.session.get(Message, message.id).attachments[0]["pipeline"]
    assert outcome == {"status": "done", "product_id": product.id}
    page = staff_client.get(f"/inbox/c/{message.conversation_id}").get_data(as_text=True)
    assert f"/products/{product.id}" in page and "Send to product pipeline" not in page
    assert TWILIO_SID not in json.dumps(db.session.get(Message, message.id).attachments)


def test_a_file_that_is_not_an_image_or_too_large_stays_a_link_with_the_reason(app, org, client, staff_client,
                                                                              run_jobs):
    files = {"/media/fake": ("image/jpeg", b"this is text pretending to be a photo")}
    with HTTPStandIn(files=files) as media:
        message = _photo_message(client, org.id, f"{media.url}/media/fake", "image/jpeg")
        staff_client.post(f"/inbox/messages/{message.id}/attachments/0/pipeline")
        run_jobs()
    db.session.expire_all()
    outcome = db.session.get(Message, message.id).attachments[0]
    assert outcome["pipeline"]["status"] == "failed" and outcome["url"].endswith("/media/fake")
    assert db.session.scalar(select(Product)) is None

    app.config["CHANNELS_ATTACHMENT_MAX_BYTES"] = 1024
    with HTTPStandIn(files={"/media/big": ("image/webp", PHOTO)}) as media:
        row = db.session.get(Message, message.id)
        row.attachments = [{**row.attachments[0], "url": f"{media.url}/media/big", "pipeline": None}]
        db.session.commit()
        staff_client.post(f"/inbox/messages/{message.id}/attachments/0/pipeline")
        run_jobs()
    db.session.expire_all()
    outcome = db.session.get(Message, message.id).attachments[0]["pipeline"]
    assert outcome["status"] == "failed" and "larger than" in outcome["reason"]


def test_only_images_of_the_organisation_can_be_sent(app, org, other_org, client, staff_client, make_user,
                                                   client_for):
    message = _photo_message(client, org.id, "https://media.example/doc.pdf", "application/pdf")
    assert staff_client.post(f"/inbox/messages/{message.id}/attachments/0/pipeline").status_code == 422
    assert staff_client.post(f"/inbox/messages/{message.id}/attachments/5/pipeline").status_code == 404
    outsider = client_for(make_user(other_org, "staff"))
    assert outsider.post(f"/inbox/messages/{message.id}/attachments/0/pipeline").status_code == 404
