"""Every image or PDF a customer sends is downloaded after the webhook answered (a job per file), checked
by content, stored by hash and shown on the conversation; what is too large or not an image or PDF stays
a link with the reason; a failed download is tried again with backoff and can be retried by hand; a
stored image goes to the product pipeline in one click, from our copy."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from datetime import timedelta

from sqlalchemy import select

from app.core.models import utcnow
from app.core.queue import get_queue
from app.extensions import db
from app.inbox.channels import email_in, meta
from app.inbox.channels import services as channel_services
from app.inbox.models import Message, MessageAttachment
from app.inbox.signatures import SIGNATURE_HEADER, hmac_sha256
from app.pipeline.models import Product
from tests.conftest import FIXTURES
from tests.inbox.helpers import TWILIO_SID, post_twilio, twilio_channel
from tests.inbox.standins import HTTPStandIn, closed_port_url

PHOTO = (FIXTURES / "pipeline" / "ean13-9780140013993.webp").read_bytes()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CHANNELS = FIXTURES / "channels"
TWILIO = json.loads((CHANNELS / "twilio_inbound_media.json").read_text())["whatsapp_image"]
META = json.loads((CHANNELS / "meta_webhooks.json").read_text())["image_message"]
POSTMARK = json.loads((CHANNELS / "postmark_inbound.json").read_text())["payload"]
RAW = (CHANNELS / "reply-with-quote.eml").read_bytes()
MEDIA_PATH = TWILIO["MediaUrl0"].removeprefix("https://api.twilio.com")


def _files() -> list[MessageAttachment]:
    db.session.expire_all()
    return list(db.session.scalars(select(MessageAttachment).order_by(MessageAttachment.id)))


def _twilio_photo(app, client, org_id: int, media, *, path: str = MEDIA_PATH, content_type: str = "image/jpeg"):
    """The documented Twilio webhook, its media URL on the stand-in (which plays Twilio's API)."""
    app.config["CHANNELS_TWILIO_API_URL"] = media.url
    row = twilio_channel(org_id, kind="whatsapp", number="+15017122661")
    params = {**TWILIO, "MediaUrl0": media.url + path, "MediaContentType0": content_type}
    assert post_twilio(client, row, params).status_code == 200
    return row


def _email_channel(org_id: int, provider: str, secrets: dict, settings: dict | None = None):
    return channel_services.channel_create(
        org_id=org_id, kind="email", provider=provider, name=f"Orders ({provider})", address="orders@acme.test",
        settings=settings or {}, secrets=secrets, by=None,
        hook_url_for=lambda token, p: f"http://localhost/hooks/ch/{token}/{p}")


def _assert_stored(row: MessageAttachment, data: bytes, mime: str) -> None:
    assert row.status == "stored", row.reason
    assert (row.sha256, row.size_bytes, row.mime) == (hashlib.sha256(data).hexdigest(), len(data), mime)


def test_twilio_media_is_fetched_with_the_account_after_the_webhook_answered(app, org, client, staff_client,
                                                                               run_jobs):
    with HTTPStandIn(files={MEDIA_PATH: ("image/jpeg", PHOTO)}) as media:
        _twilio_photo(app, client, org.id, media)
        [pending] = _files()
        assert pending.status == "pending" and media.requests == []  # the webhook did not wait for the file
        page = staff_client.get(f"/inbox/c/{pending.message.conversation_id}").get_data(as_text=True)
        assert "downloading…" in page
        run_jobs()
    [row] = _files()
    _assert_stored(row, PHOTO, "image/webp")  # declared a JPEG; the content decides
    sent = media.requests[0]["headers"]["Authorization"]
    assert base64.b64decode(sent.split()[1]).decode() == f"{TWILIO_SID}:twilio-auth-token-0001"
    page = staff_client.get(f"/inbox/c/{row.message.conversation_id}").get_data(as_text=True)
    assert f'src="/inbox/attachments/{row.id}/thumbnail"' in page and "Send to product pipeline" in page
    thumb = staff_client.get(f"/inbox/attachments/{row.id}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg" and thumb.data[:3] == b"\xff\xd8\xff"
    assert thumb.headers["Cache-Control"] == "private, max-age=3600" and thumb.headers.get("ETag")
    original = staff_client.get(f"/inbox/attachments/{row.id}")
    assert original.data == PHOTO and original.mimetype == "image/webp"


def test_credentials_go_to_twilio_only(app, org, client, run_jobs):
    with HTTPStandIn(files={"/elsewhere.jpg": ("image/jpeg", PHOTO)}) as media:
        row = twilio_channel(org.id, kind="whatsapp", number="+15017122661")
        params = {**TWILIO, "MediaUrl0": f"{media.url}/elsewhere.jpg"}  # not Twilio's API host
        assert post_twilio(client, row, params).status_code == 200
        run_jobs()
    assert "Authorization" not in media.requests[0]["headers"]
    _assert_stored(_files()[0], PHOTO, "image/webp")


def test_whatsapp_media_id_is_resolved_through_the_graph_api(app, org, client, run_jobs):
    with HTTPStandIn() as graph:
        media_id = META["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"]
        graph.files[f"/{media_id}"] = ("application/json", json.dumps({
            "messaging_product": "whatsapp", "url": f"{graph.url}/whatsapp_business/attachments/?mid={media_id}",
            "mime_type": "image/jpeg", "file_size": len(PHOTO), "id": media_id}).encode())
        graph.files[f"/whatsapp_business/attachments/?mid={media_id}"] = ("image/jpeg", PHOTO)
        app.config["CHANNELS_GRAPH_API_URL"] = graph.url
        row = channel_services.channel_create(
            org_id=org.id, kind="whatsapp", provider="meta", name="WhatsApp Cloud", address="+15550783881",
            settings={"phone_number_id": "106540352242922"}, by=None,
            secrets={"access_token": "EAAG-access-token", "app_secret": "meta-app-secret"},
            hook_url_for=lambda token, provider: f"http://localhost/hooks/ch/{token}/{provider}")
        body = json.dumps(META).encode()
        assert client.post(row.hook_url, data=body, csrf=False, headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta.signature("meta-app-secret", body)}).status_code == 200
        run_jobs()
    assert [r["path"] for r in graph.requests] == [f"/{media_id}", f"/whatsapp_business/attachments/?mid={media_id}"]
    assert {r["headers"]["Authorization"] for r in graph.requests} == {"Bearer EAAG-access-token"}
    [stored] = _files()
    _assert_stored(stored, PHOTO, "image/webp")
    assert stored.media_id == media_id and stored.message.body == "This one, in blue"


def _mailgun_form(**files) -> dict:
    timestamp, token = str(int(time.time())), "tok-" + "m" * 46
    return {"timestamp": timestamp, "token": token, "from": "Ann Smith <ann@example.com>",
            "signature": email_in.mailgun_signature("key-mailgun", timestamp, token), "subject": "Photos",
            "body-plain": "The order form and a photo.", "Message-Id": "<mg-files@x>", **files}


def test_mailgun_attachment_parts_are_stored(app, org, client, staff_client, run_jobs):
    row = _email_channel(org.id, "mailgun", {"signing_key": "key-mailgun"})
    form = _mailgun_form(**{"attachment-1": (io.BytesIO(PDF), "order form.pdf", "application/pdf"),
                            "attachment-2": (io.BytesIO(PHOTO), "ring.webp", "image/webp")})
    response = client.post(row.hook_url, data=form, csrf=False, content_type="multipart/form-data")
    assert response.status_code == 201, response.data
    assert [f.status for f in _files()] == ["pending", "pending"]
    run_jobs()
    pdf, photo = _files()
    _assert_stored(pdf, PDF, "application/pdf")
    _assert_stored(photo, PHOTO, "image/webp")
    page = staff_client.get(f"/inbox/c/{pdf.message.conversation_id}").get_data(as_text=True)
    assert f'href="/inbox/attachments/{pdf.id}"' in page and "order form.pdf" in page and f"PDF · {len(PDF)} Bytes" in page
    download = staff_client.get(f"/inbox/attachments/{pdf.id}")
    assert download.data == PDF and download.headers["Content-Disposition"].startswith("attachment;")
    assert staff_client.get(f"/inbox/attachments/{pdf.id}/thumbnail").status_code == 404  # a PDF has none


def test_postmark_base64_attachments_are_stored_and_other_kinds_kept_with_the_reason(app, org, client, run_jobs):
    row = _email_channel(org.id, "postmark", {"password": "pm-password-0123456789"}, {"username": "postmark"})
    payload = {**POSTMARK, "Attachments": [*POSTMARK["Attachments"], {
        "Name": "ring.webp", "Content": base64.b64encode(PHOTO).decode(), "ContentType": "image/webp",
        "ContentLength": len(PHOTO)}]}
    auth = {"Authorization": "Basic " + base64.b64encode(b"postmark:pm-password-0123456789").decode()}
    assert client.post(row.hook_url, json=payload, csrf=False, headers=auth).status_code == 201
    csv, photo = _files()
    assert csv.status == "refused" and csv.reason == "only images and PDFs are stored; this is text/csv"
    assert csv.sha256 is None and csv.filename == "order.csv"
    run_jobs()
    _assert_stored(_files()[1], PHOTO, "image/webp")
    bad = {**POSTMARK, "MessageID": "other", "Attachments": [{"Name": "x.pdf", "Content": "not base64!"}]}
    assert client.post(row.hook_url, json=bad, csrf=False, headers=auth).status_code == 400


def test_raw_rfc822_pdf_part_is_stored(app, org, client, run_jobs):
    row = _email_channel(org.id, "rfc822", {"relay_secret": "relay-secret-0123456789"})
    response = client.post(row.hook_url, data=RAW, csrf=False, headers={
        SIGNATURE_HEADER: hmac_sha256("relay-secret-0123456789", RAW), "Content-Type": "message/rfc822"})
    assert response.status_code == 201
    run_jobs()
    [pdf] = _files()
    _assert_stored(pdf, base64.b64decode("JVBERi0xLjQKJcTl8uXrCg=="), "application/pdf")
    assert pdf.filename == "purchase-order.pdf"


def test_oversized_and_unsupported_files_stay_links_with_the_reason(app, org, client, staff_client, run_jobs):
    app.config["CHANNELS_ATTACHMENT_MAX_BYTES"] = 4096
    files = {"/big.jpg": ("image/jpeg", PHOTO), "/fake.jpg": ("image/jpeg", b"text pretending to be a photo"),
             "/voice.ogg": ("audio/ogg", b"OggS")}
    with HTTPStandIn(files=files) as media:
        row = twilio_channel(org.id, kind="whatsapp", number="+15017122661")
        params = {**TWILIO, "NumMedia": "3", "MediaUrl0": f"{media.url}/big.jpg", "MediaContentType0": "image/jpeg",
                  "MediaUrl1": f"{media.url}/fake.jpg", "MediaContentType1": "image/jpeg",
                  "MediaUrl2": f"{media.url}/voice.ogg", "MediaContentType2": "audio/ogg"}
        assert post_twilio(client, row, params).status_code == 200
        run_jobs()
    big, fake, voice = _files()
    assert (big.status, big.reason) == ("refused", "the file is larger than the limit of 4 KB")
    assert (fake.status, fake.reason) == ("refused", "the file is neither an image nor a PDF (judged by its content)")
    assert (voice.status, voice.reason) == ("refused", "only images and PDFs are stored; this is audio/ogg")
    assert sorted(r["path"] for r in media.requests) == ["/big.jpg", "/fake.jpg"]  # audio is not even fetched
    assert {f.sha256 for f in (big, fake, voice)} == {None}
    page = staff_client.get(f"/inbox/c/{big.message.conversation_id}").get_data(as_text=True)
    for kept in (big, fake, voice):
        assert f'href="{kept.url}"' in page and kept.reason in page
    assert "Send to product pipeline" not in page and "Retry download" not in page


def test_a_failed_download_is_tried_again_with_backoff_then_retried_by_hand(app, org, client, staff_client,
                                                                              run_jobs):
    app.config.update(CHANNELS_MAX_ATTEMPTS=3, CHANNELS_RETRY_BASE_SECONDS=30)
    with HTTPStandIn(files={MEDIA_PATH: 503}) as media:
        _twilio_photo(app, client, org.id, media)
        run_jobs()
        [row] = _files()
        assert row.status == "pending" and row.attempts == 1
        assert row.reason == "Try 1 failed: the provider answered HTTP 503. Trying again."
        assert timedelta(seconds=25) < row.next_attempt_at - utcnow() <= timedelta(seconds=30)
        assert get_queue("default").scheduled_job_registry.count == 1  # the next try, in 30 s
        for tries, pause in ((2, 60), (3, None)):
            row.next_attempt_at = utcnow() - timedelta(seconds=1)  # its time has come (the job may be lost)
            db.session.commit()
            output = app.test_cli_runner().invoke(args=["inbox", "sweep"]).output
            assert "attachment downloads queued: 1" in output
            run_jobs()
            [row] = _files()
            assert row.attempts == tries
            if pause:
                assert timedelta(seconds=pause - 5) < row.next_attempt_at - utcnow() <= timedelta(seconds=pause)
        assert (row.status, row.reason, row.next_attempt_at) == ("failed", "the provider answered HTTP 503", None)
        page = staff_client.get(f"/inbox/c/{row.message.conversation_id}").get_data(as_text=True)
        assert "Retry download" in page and "the provider answered HTTP 503" in page

        media.files[MEDIA_PATH] = ("image/jpeg", PHOTO)  # the provider is back
        page = staff_client.htmx("post", f"/inbox/attachments/{row.id}/retry").get_data(as_text=True)
        assert "downloading…" in page and "Retry download" not in page
        assert staff_client.post(f"/inbox/attachments/{row.id}/retry").status_code == 409
        run_jobs()
    _assert_stored(_files()[0], PHOTO, "image/webp")


def test_what_cannot_change_fails_at_once_and_what_may_waits_for_its_next_try(app, org, client, run_jobs):
    closed = closed_port_url() + "/m.jpg"
    with HTTPStandIn() as media:  # every path is a 404
        row = twilio_channel(org.id, kind="whatsapp", number="+15017122661")
        params = {**TWILIO, "NumMedia": "3", "MediaUrl0": f"{media.url}/gone.jpg",
                  "MediaUrl1": "http://10.1.2.3/inside.jpg", "MediaContentType1": "image/jpeg",
                  "MediaUrl2": closed, "MediaContentType2": "image/jpeg"}
        assert post_twilio(client, row, params).status_code == 200
        run_jobs()
    gone, inside, down = _files()
    assert (gone.status, gone.reason, gone.attempts) == ("failed", "the provider answered HTTP 404", 1)
    # The outbound guard refuses an address inside the network, and would again.
    assert (inside.status, inside.reason) == ("failed", "the provider could not be reached (could not connect)")
    assert down.status == "pending" and down.reason.startswith("Try 1 failed: the provider could not be reached")


def test_a_stored_photo_goes_to_the_pipeline_without_a_second_download(app, org, client, staff_client, run_jobs):
    with HTTPStandIn(files={MEDIA_PATH: ("image/jpeg", PHOTO)}) as media:
        _twilio_photo(app, client, org.id, media)
        run_jobs()
        [row] = _files()
        page = staff_client.htmx("post", f"/inbox/attachments/{row.id}/pipeline").get_data(as_text=True)
        assert "sending to the product pipeline…" in page
        assert staff_client.post(f"/inbox/attachments/{row.id}/pipeline").status_code == 409
        run_jobs(max_jobs=1)  # the hand-off (the new product's own phases are not this test's business)
    assert len(media.requests) == 1
    product = db.session.scalar(select(Product))
    assert product is not None and product.images[0].sha256 == hashlib.sha256(PHOTO).hexdigest()
    [row] = _files()
    assert (row.handoff, row.product_id) == ("done", product.id)
    page = staff_client.get(f"/inbox/c/{row.message.conversation_id}").get_data(as_text=True)
    assert f"/products/{product.id}" in page and "Send to product pipeline" not in page


def test_files_are_served_to_their_organisation_only(app, org, other_org, client, staff_client, make_user,
                                                     client_for, run_jobs):
    with HTTPStandIn(files={MEDIA_PATH: ("image/jpeg", PHOTO), "/doc.pdf": ("application/pdf", PDF)}) as media:
        row = _twilio_photo(app, client, org.id, media)
        params = {**TWILIO, "MessageSid": "MMpdf", "MediaUrl0": f"{media.url}/doc.pdf",
                  "MediaContentType0": "application/pdf"}
        assert post_twilio(client, row, params).status_code == 200
        photo, pdf = _files()
        assert staff_client.post(f"/inbox/attachments/{photo.id}/pipeline").status_code == 409  # not stored yet
        run_jobs()
    assert staff_client.post(f"/inbox/attachments/{pdf.id}/pipeline").status_code == 422
    outsider = client_for(make_user(other_org, "staff"))
    for path in ("", "/thumbnail"):
        assert staff_client.get(f"/inbox/attachments/{photo.id}{path}").status_code == 200
        assert outsider.get(f"/inbox/attachments/{photo.id}{path}").status_code == 404
    for action in ("retry", "pipeline"):
        assert outsider.post(f"/inbox/attachments/{photo.id}/{action}").status_code == 404
    assert app.test_client().get(f"/inbox/attachments/{photo.id}").status_code == 302


def test_a_customers_files_are_in_their_export_and_go_when_they_are_erased(app, org, client, manager_client,
                                                                             run_jobs):
    with HTTPStandIn(files={MEDIA_PATH: ("image/jpeg", PHOTO)}) as media:
        _twilio_photo(app, client, org.id, media)
        run_jobs()
    customer_id = db.session.scalar(select(Message)).conversation.customer_id
    export = manager_client.get(f"/inbox/customers/{customer_id}/export").get_json()
    assert export["conversations"][0]["messages"][0]["attachments"] == [
        {"filename": "", "type": "image/webp", "size": len(PHOTO), "status": "stored"}]
    assert manager_client.post(f"/inbox/customers/{customer_id}/erase").status_code == 302
    assert _files() == []


def _order_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, "Purchase order PO-4471")
    pdf.ln()
    pdf.cell(0, 10, "3 x sterling silver chain 45 cm")
    return bytes(pdf.output())


def test_a_pdf_shows_its_first_page_as_text_on_the_conversation(app, org, client, staff_client, run_jobs):
    data = _order_pdf()
    row = _email_channel(org.id, "mailgun", {"signing_key": "key-mailgun"})
    form = _mailgun_form(**{"attachment-1": (io.BytesIO(data), "po.pdf", "application/pdf"),
                            "attachment-2": (io.BytesIO(PDF), "empty.pdf", "application/pdf")})
    assert client.post(row.hook_url, data=form, csrf=False, content_type="multipart/form-data").status_code == 201
    run_jobs()
    order, empty = _files()
    _assert_stored(order, data, "application/pdf")
    assert order.preview == "Purchase order PO-4471 3 x sterling silver chain 45 cm"
    assert empty.status == "stored" and empty.preview == ""  # no text: a link only, nothing invented
    page = staff_client.get(f"/inbox/c/{order.message.conversation_id}").get_data(as_text=True)
    assert f'data-testid="attachment-preview-{order.id}">Purchase order PO-4471' in page
    assert f"attachment-preview-{empty.id}" not in page
