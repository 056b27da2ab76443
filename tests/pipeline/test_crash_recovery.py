"""A worker killed (kill -9) in the middle of analysis: another worker finishes the product."""
from __future__ import annotations

import time

import pytest

from app.extensions import db
from app.pipeline.models import PhaseStatus, Product, ProductStatus
from tests.pipeline.helpers import BLANK_PHOTO, EAN_PHOTO, catalogue_item, create_product
from tests.workers import start_worker, wait_until, worker_env  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


@pytest.fixture
def workers(app, start_worker):  # noqa: F811 (the fixture imported above)
    def start(name: str):
        return start_worker(f"{app.config['REDIS_NAMESPACE']}-{name}", PIPELINE_LEASE_SECONDS=6,
                            PIPELINE_SWEEP_SECONDS=3)

    return start


def _poll(fn, timeout: float):
    return wait_until(fn, timeout, interval=0.2, fresh=True)


def test_killing_the_worker_during_analysis_does_not_lose_the_product(app, org, manager, workers):
    app.config["PIPELINE_SWEEP_SECONDS"] = 3
    catalogue_item(org)
    # Enough photos that analysis takes several seconds: the kill lands in the middle of it.
    product = create_product(org, manager, EAN_PHOTO, *[BLANK_PHOTO] * 8)
    product_id = product.id
    first = workers("first")

    def analysis():
        return db.session.get(Product, product_id).phase("analysis")

    _poll(lambda: analysis().status == PhaseStatus.RUNNING, 60)
    first.kill()
    assert analysis().status == PhaseStatus.RUNNING  # nobody is running it any more
    killed_at = time.monotonic()
    workers("second")
    _poll(lambda: db.session.get(Product, product_id).status == ProductStatus.COMPLETED, 150)
    recovered_in = time.monotonic() - killed_at
    phase = analysis()
    assert phase.attempts == 2 and phase.status == PhaseStatus.COMPLETED
    assert db.session.get(Product, product_id).confidence >= 95
    assert recovered_in < 120 + 30  # requeued within two minutes, then analysed again


def test_stop_kills_the_running_job_on_the_worker(app, org, manager, workers):
    from rq.job import Job

    from app.core.database import write_intent
    from app.core.queue import get_redis
    from app.pipeline import services

    product = create_product(org, manager, *[BLANK_PHOTO] * 10)
    product_id = product.id
    workers("stopper")

    def analysis():
        return db.session.get(Product, product_id).phase("analysis")

    _poll(lambda: analysis().status == PhaseStatus.RUNNING, 60)
    job_id = analysis().rq_job_id
    db.session.rollback()
    with write_intent():  # as the web's POST does
        services.product_stop(org_id=org.id, product_id=product_id, by=manager)
    job = Job.fetch(job_id, connection=get_redis())
    _poll(lambda: job.get_status(refresh=True).value == "stopped", 30)
    phase = analysis()
    assert phase.status == PhaseStatus.STOPPED and phase.result is None
    assert db.session.get(Product, product_id).status == ProductStatus.STOPPED
