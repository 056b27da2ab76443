"""Upload a CSV, map its columns, start it and watch every live part of the batch page and the batch list
reach the end without a reload: the bar at 100 %, no row left pending, the rate of the whole run, heartbeats
as times, and the list's row completed."""
from __future__ import annotations

import re

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
    expect(page.locator("[data-testid=rows] .badge-pending").first).to_be_visible()
    listing = page.context.new_page()
    listing.goto("/batches/")
    expect(listing.locator("#live-dot.on")).to_be_visible()
    expect(listing.get_by_test_id("batch-table")).to_contain_text(re.compile("processing", re.I))
    for watched in (page, listing):
        watched.evaluate("window.__notReloaded = true")
    seen: set[int] = set()
    page.expose_function("recordProgress", lambda value: seen.add(int(value)))
    page.evaluate("""() => new MutationObserver(() => {
        const bar = document.querySelector('[data-testid=progress-bar]');
        if (bar) window.recordProgress(bar.getAttribute('aria-valuenow'));
    }).observe(document.body, {subtree: true, childList: true})""")
    start_worker()
    expect(page.get_by_test_id("progress-percent")).to_have_text("100 %", timeout=60_000)
    expect(page.get_by_test_id("batch-progress")).to_contain_text("completed")
    # The results table follows too: no row is left pending or in flight once the bar is full.
    expect(page.locator("[data-testid=rows] :is(.badge-pending, .badge-claimed, .badge-processing)")).to_have_count(0)
    expect(page.locator("[data-testid=rows] .badge-completed")).to_have_count(25)  # one page of rows
    expect(page.get_by_test_id("average-rate")).to_contain_text("rows/min on average")
    expect(page.get_by_test_id("batch-progress")).not_to_contain_text("rate not known yet")
    # Workers still named on the batch show their last heartbeat as a time, not a frozen "5 s ago".
    expect(page.locator("[data-testid=heartbeat]:not(:has(time))")).to_have_count(0)
    expect(page.get_by_test_id("batch-progress")).not_to_contain_text("No worker has reported yet")
    row = listing.get_by_test_id("batch-table").locator("tbody tr").first
    expect(row.locator(".badge")).to_have_text(re.compile("^completed$", re.I))
    expect(row.locator("td.num").nth(1)).to_have_text("80")
    for watched in (page, listing):
        assert watched.evaluate("window.__notReloaded") is True
    assert any(0 < v < 100 for v in seen), f"no intermediate progress seen: {sorted(seen)}"
    page.get_by_role("link", name="completed").first.click()
    expect(page.locator("img.thumb").first).to_be_visible()
