"""Redis killed in the middle of a batch while its page is open: the page's progress still reaches
100 % without a reload, because the stream tells it to re-fetch once Redis is back (even when the
batch ended while the page's stream had no Redis to hear it from)."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select, update

from app.batches.models import Batch
from app.core.events import get_broker
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


def test_a_resync_on_the_stream_makes_every_live_card_re_fetch(app, manager, manager_client, page):
    """What a resync stands for (Redis back after an outage, a tab that fell behind, a stream opened
    late): events were lost. The page must re-fetch its live cards on that one signal."""
    batch = upload_and_start(manager_client, products_csv(10), jobs=1)  # no worker: nothing moves by itself
    sign_in(page, manager)
    page.goto(f"/batches/{batch.id}")
    expect(page.locator("#live-dot.on")).to_be_visible()
    expect(page.get_by_test_id("progress-percent")).to_have_text("0 %")
    broker = get_broker()
    wait_until(lambda: broker.subscriber_count() >= 1)
    # Progress written without its event, as when the event was published while Redis was away.
    db.session.rollback()  # from a fresh snapshot: the server has written since this session last read
    db.session.execute(update(Batch).where(Batch.id == batch.id).values(processed_rows=4, successful_rows=4))
    db.session.commit()

    broker.resync_all()

    expect(page.get_by_test_id("progress-percent")).to_have_text("40 %")
    expect(page.get_by_test_id("progress-counts")).to_have_text("4 of 10 rows")
