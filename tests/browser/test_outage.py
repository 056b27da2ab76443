"""Redis killed in the middle of a batch while its page is open: the page's progress still reaches
100 % without a reload, because the stream tells it to re-fetch once Redis is back."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.batches.models import Batch
from app.extensions import db
from tests.batches.helpers import products_csv, upload_and_start
from tests.browser.conftest import sign_in, wait_until
from tests.core.test_redis_outage import private_redis  # noqa: F401 (fixture)


def test_batch_progress_reaches_the_end_through_a_redis_restart(
        private_redis, app, manager, manager_client, start_worker, page):  # noqa: F811
    app.config["BATCH_CHUNK_SIZE"] = 5
    batch = upload_and_start(manager_client, products_csv(300), jobs=2)
    sign_in(page, manager)
    page.goto(f"/batches/{batch.id}")
    expect(page.locator("#live-dot.on")).to_be_visible()
    page.evaluate("window.__notReloaded = true")
    start_worker()

    def processed() -> int:
        db.session.rollback()
        return db.session.scalar(select(Batch.processed_rows).where(Batch.id == batch.id))

    wait_until(lambda: processed() >= 20, 120)
    private_redis.outage(3)  # the stream stays open; the events of those seconds are lost

    expect(page.get_by_test_id("progress-percent")).to_have_text("100 %", timeout=180_000)
    expect(page.get_by_test_id("batch-progress")).to_contain_text("completed")
    expect(page.locator("#live-dot.on")).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
