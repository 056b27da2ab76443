"""A supplier import watched to its end: the running banner and the progress bar go, the counts and the
report come, all without a reload."""
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import FIXTURES


def test_import_page_follows_the_import_to_its_report_and_drops_the_banner(page, manager, start_worker):
    sign_in(page, manager)
    page.goto("/inventory/imports")
    page.set_input_files("#file", str(FIXTURES / "aliexpress" / "jewellery-orders-135.json"))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("import-status")).to_contain_text("Previewed")
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_test_id("import-running")).to_have_text("The import is running; this page follows its progress.")
    expect(page.locator("#flashes")).not_to_contain_text("running")
    expect(page.locator("#live-dot.on")).to_be_visible()
    page.evaluate("window.__notReloaded = true")
    start_worker()

    expect(page.get_by_test_id("import-counts")).to_contain_text("Created 135", timeout=60_000)
    expect(page.get_by_test_id("import-running")).to_have_count(0)
    expect(page.locator("text=this page follows its progress")).to_have_count(0)
    expect(page.locator("#import-status [role=progressbar]")).to_have_count(0)
    expect(page.locator("#import-status .badge-completed")).to_be_visible()
    expect(page.get_by_role("link", name="Download the report (CSV)")).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
