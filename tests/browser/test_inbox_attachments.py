"""A customer's photo arrives by a signed Twilio webhook on an open conversation: a worker downloads it
from (a local stand-in of) Twilio's media address, the thumbnail appears without a reload, and one click
sends it to the product pipeline, whose product the conversation then links to."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.inbox.channels import services as channel_services
from app.inbox.channels import twilio
from app.inbox.models import Message, MessageAttachment
from tests.browser.conftest import sign_in, wait_until
from tests.conftest import FIXTURES
from tests.inbox.helpers import TWILIO_SID
from tests.inbox.standins import HTTPStandIn

AUTH_TOKEN = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
PHOTO = (FIXTURES / "pipeline" / "ean13-9780140013993.webp").read_bytes()
SAMPLE = json.loads((FIXTURES / "channels" / "twilio_inbound_media.json").read_text())["whatsapp_image"]
MEDIA_PATH = SAMPLE["MediaUrl0"].removeprefix("https://api.twilio.com")


def _post_signed(url: str, params: dict) -> int:
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio.signature(AUTH_TOKEN, url, params.items())})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_a_photo_arrives_shows_its_thumbnail_and_goes_to_the_pipeline(page, staff, live_server, worker_env,
                                                                       start_worker):
    with HTTPStandIn(files={MEDIA_PATH: ("image/jpeg", PHOTO)}) as media:
        worker_env["CHANNELS_TWILIO_API_URL"] = media.url
        start_worker()
        row = channel_services.channel_create(
            org_id=staff.organisation_id, kind="whatsapp", provider="twilio", name="Shop WhatsApp",
            address="+15017122661", settings={"account_sid": TWILIO_SID}, secrets={"auth_token": AUTH_TOKEN},
            hook_url_for=lambda token, provider: f"{live_server.url}/hooks/ch/{token}/{provider}", by=None)
        hook_url = row.hook_url
        first = {**SAMPLE, "MessageSid": "MMfirst", "NumMedia": "0", "Body": "Hello, I have a ring to sell"}
        del first["MediaUrl0"], first["MediaContentType0"]
        assert _post_signed(hook_url, first) == 200
        conversation_id = wait_until(lambda: db.session.scalar(select(Message.conversation_id)), fresh=True)

        sign_in(page, staff)
        page.goto(f"/inbox/c/{conversation_id}")
        expect(page.locator("#live-dot.on")).to_be_visible()
        page.evaluate("window.__notReloaded = true")
        assert _post_signed(hook_url, {**SAMPLE, "MediaUrl0": media.url + MEDIA_PATH}) == 200

        attachment = wait_until(lambda: db.session.scalar(select(MessageAttachment)), fresh=True)
        thumbnail = page.get_by_test_id(f"attachment-thumb-{attachment.id}")
        expect(thumbnail).to_be_visible(timeout=20_000)
        expect(page.get_by_text("This one, in blue")).to_be_visible()
        assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0")  # served to the signed-in staff
        assert media.requests[0]["headers"]["Authorization"].startswith("Basic ")

        page.get_by_test_id(f"attachment-{attachment.id}").get_by_role(
            "button", name="Send to product pipeline").click()
        link = page.get_by_test_id(f"attachment-{attachment.id}").get_by_role("link", name="in the product pipeline")
        expect(link).to_be_visible(timeout=30_000)
        assert page.evaluate("window.__notReloaded") is True
        assert len(media.requests) == 1  # the pipeline took the stored copy
