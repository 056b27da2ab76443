"""Health page: an admin backs up now and sees the new verified backup arrive without reloading."""
from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def test_back_up_now_from_the_health_page(page, admin, live_worker):
    sign_in(page, admin)
    page.goto("/admin/health")
    expect(page.locator("#newest-backup")).to_contain_text("No verified backup yet")
    expect(page.locator("#database-panel")).to_contain_text("Largest tables")
    page.evaluate("window.__notReloaded = true")
    page.get_by_role("button", name="Back up now").click()
    expect(page.locator("#backup-runs tr[data-kind=backup]")).to_have_attribute("data-status", "succeeded",
                                                                                timeout=90_000)
    expect(page.locator("#newest-backup")).to_contain_text("stockroom-")
    expect(page.locator("#newest-backup")).to_contain_text("ago")
    page.get_by_role("button", name="Measure storage").click()
    expect(page.locator("#backup-runs tr[data-kind=sweep]")).to_have_attribute("data-status", "succeeded",
                                                                               timeout=90_000)
    expect(page.locator("#reclaimable")).to_contain_text("Reclaimable", timeout=30_000)
    assert page.evaluate("window.__notReloaded") is True
