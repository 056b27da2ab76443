"""The web → queue → worker → event → browser chain, seen in two tabs at once."""
import os
import signal

from playwright.sync_api import expect

from app.core.jobs import alive_worker_count
from tests.browser.conftest import sign_in, wait_until


def test_ping_updates_the_card_in_both_tabs_without_reload(context, admin, live_worker):
    first, second = context.new_page(), context.new_page()
    sign_in(first, admin)
    second.goto("/")
    for tab in (first, second):
        expect(tab.get_by_test_id("ping-status")).to_contain_text("No ping yet")
        expect(tab.locator("#live-dot.on")).to_be_visible(timeout=30_000)  # the event stream is open
    second.evaluate("window.__notReloaded = true")
    first.get_by_role("button", name="Ping the workers").click()
    for tab in (first, second):
        expect(tab.get_by_test_id("ping-status")).to_contain_text("answered by", timeout=90_000)
    assert second.evaluate("window.__notReloaded") is True



def test_a_card_replaced_by_its_button_still_ends_on_the_last_state(page, admin, live_worker):
    """The ping's answer arrives after the button's request has replaced the card with the
    "waiting" state it rendered, before the new card listens (HTMX's settle delay, made long here):
    the event lands on the old card and must be replayed on the new one, not lost."""
    wait_until(alive_worker_count, timeout=60)  # the worker listens
    sign_in(page, admin)
    expect(page.locator("#live-dot.on")).to_be_visible(timeout=30_000)
    page.evaluate("htmx.config.defaultSettleDelay = 6000")
    os.killpg(live_worker.proc.pid, signal.SIGSTOP)  # the job waits until the card has been replaced
    try:
        with page.expect_response("**/dashboard/ping"):
            page.get_by_role("button", name="Ping the workers").click()
        expect(page.get_by_test_id("ping-status")).to_contain_text("waiting for a worker")
    finally:
        os.killpg(live_worker.proc.pid, signal.SIGCONT)
    expect(page.get_by_test_id("ping-status")).to_contain_text("answered by", timeout=30_000)
