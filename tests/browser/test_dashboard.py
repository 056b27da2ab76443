"""The web → queue → worker → event → browser chain, seen in two tabs at once."""
from playwright.sync_api import expect

from tests.browser.conftest import sign_in


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
