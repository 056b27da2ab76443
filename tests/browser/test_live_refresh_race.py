"""A live card's refresh answered while a form sent from inside the card waits for its own answer
must not undo that answer (replacing the card first, bringing back what was typed, and leaving
the form's answer nowhere to land)."""
from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from app.core.database import write_intent
from app.extensions import db
from app.inbox.channels import services as channel_services
from tests.browser.conftest import sign_in


def _open_add_template_form(page, admin, live_server):
    """A WhatsApp channel of the admin's organisation, its settings page open (live) and its
    "Add a template" form unfolded: (channel id, the form)."""
    with write_intent():
        row = channel_services.channel_create(
            org_id=admin.organisation_id, kind="whatsapp", provider="meta", name="Shop WhatsApp",
            address="+15550783881", settings={"phone_number_id": "106540352242922", "verify_token": "verify-me"},
            secrets={"access_token": "EAAG-browser", "app_secret": "s" * 32},
            hook_url_for=lambda token, provider: f"{live_server.url}/hooks/ch/{token}/{provider}", by=None)
    channel_id = row.id
    db.session.commit()
    sign_in(page, admin)
    page.goto("/inbox/settings/channels/")
    expect(page.locator("#live-dot.on")).to_be_visible()
    card = page.get_by_test_id(f"channel-{channel_id}")
    card.get_by_text("Add a template").click()
    return channel_id, card.get_by_test_id(f"add-template-{channel_id}")


def test_a_refresh_in_flight_when_a_form_inside_the_card_is_sent_does_not_bring_back_the_typed_fields(
        page, admin, live_server):
    channel_id, form = _open_add_template_form(page, admin, live_server)
    form.get_by_label("Template name").fill("order_ready")
    form.get_by_label("Language code").fill("en_US")
    form.get_by_label("Body parameters").fill("0")
    form.get_by_label("Body text").fill("Your order is ready to collect.")

    # The person sends the form; its request is held on the way to the server...
    held = []
    page.route(re.compile(rf"/inbox/settings/channels/{channel_id}/templates$"), lambda route: held.append(route))
    form.get_by_role("button", name="Add template").click()
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the form was not sent"
    # ...while news makes the card refresh, and that refresh is answered first (without the template).
    page.evaluate(f"htmx.trigger(document.getElementById('channel-{channel_id}'), 'stockroom:resync')")
    page.wait_for_timeout(1000)
    held[0].continue_()

    # The form's answer wins: the template is listed and the form is empty, not refilled by the refresh.
    templates = page.get_by_test_id(f"templates-{channel_id}")
    expect(templates).to_contain_text("order_ready")
    page.wait_for_timeout(1000)  # and stays so once the card, told to catch up, has refreshed again
    expect(templates).to_contain_text("order_ready")
    fresh_form = page.get_by_test_id(f"add-template-{channel_id}")
    expect(fresh_form.get_by_label("Template name")).to_have_value("")
    expect(fresh_form.get_by_label("Body text")).to_have_value("")


def test_a_form_opened_in_a_live_card_stays_open_with_what_was_typed_when_the_card_refreshes(
        page, admin, live_server):
    channel_id, form = _open_add_template_form(page, admin, live_server)
    form.get_by_label("Template name").fill("order_ready")

    # News about the channel: the card is replaced by a fresh copy from the server.
    page.evaluate(f"document.getElementById('channel-{channel_id}').setAttribute('data-before-refresh', '')")
    page.evaluate(f"htmx.trigger(document.getElementById('channel-{channel_id}'), 'stockroom:resync')")
    expect(page.locator(f"#channel-{channel_id}:not([data-before-refresh])")).to_be_attached()

    # The form the person opened is still open, with what they typed.
    expect(form.get_by_label("Template name")).to_be_visible()
    expect(form.get_by_label("Template name")).to_have_value("order_ready")
