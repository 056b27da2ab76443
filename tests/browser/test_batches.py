"""Upload a CSV, map its columns, start it and watch the progress bar reach 100 % without a reload."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.batches.helpers import products_csv
from tests.browser.conftest import sign_in


def test_upload_map_start_and_watch_progress(page, manager, start_worker, app, tmp_path):
    app.config["BATCH_CHUNK_SIZE"] = 5
    csv_path = tmp_path / "summer-collection.csv"
    csv_path.write_bytes(products_csv(80))
    sign_in(page, manager)
    page.goto("/batches/")
    page.set_input_files("input[name=file]", str(csv_path))
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_test_id("detected-format")).to_contain_text("UTF-8")
    expect(page.get_by_test_id("preview")).to_contain_text("Chain 1")
    page.select_option("#field_title", "Product Name")
    page.select_option("#field_mpn", "MPN")
    page.select_option("#field_description", "Description")
    page.fill("#save_as", "Summer supplier")
    page.get_by_role("button", name="Check every row").click()
    expect(page.get_by_test_id("validation")).to_contain_text("No problems found")
    page.get_by_role("button", name="Start processing 80 row(s)").click()

    expect(page.get_by_test_id("progress-counts")).to_contain_text("0 of 80 rows")
    expect(page.locator("#live-dot.on")).to_be_visible()  # the event stream is open
    page.evaluate("window.__notReloaded = true")
    seen: set[int] = set()
    page.expose_function("recordProgress", lambda value: seen.add(int(value)))
    page.evaluate("""() => new MutationObserver(() => {
        const bar = document.querySelector('[data-testid=progress-bar]');
        if (bar) window.recordProgress(bar.getAttribute('aria-valuenow'));
    }).observe(document.body, {subtree: true, childList: true})""")
    start_worker()
    expect(page.get_by_test_id("progress-percent")).to_have_text("100 %", timeout=60_000)
    expect(page.get_by_test_id("batch-progress")).to_contain_text("completed")
    assert page.evaluate("window.__notReloaded") is True
    assert any(0 < v < 100 for v in seen), f"no intermediate progress seen: {sorted(seen)}"
    page.get_by_role("link", name="completed").first.click()
    expect(page.locator("img.thumb").first).to_be_visible()
