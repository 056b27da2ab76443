"""Redis killed (kill -9) in the middle of the work and started again from its append-only file:
workers carry on, every product and every batch row is finished, nothing is done twice."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from app.batches.models import Batch, BatchRow, BatchStatus
from app.core import redis_server
from app.extensions import db
from app.pipeline.models import PhaseStatus, Product, ProductPhase, ProductStatus
from tests.batches.helpers import products_csv, upload_and_start
from tests.pipeline.helpers import BLANK_PHOTO, EAN_PHOTO, catalogue_item, create_product
from tests.workers import WorkerProcess, worker_environment

pytestmark = pytest.mark.slow


class PrivateRedis:
    """An embedded Redis of this test alone (its own folder and append-only file)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.url = redis_server.start(folder)

    def pid(self) -> int:
        return int(redis.Redis.from_url(self.url).info("server")["process_id"])

    def outage(self, seconds: float) -> None:
        """kill -9 the server, leave it down for `seconds`, start it again from its append-only file."""
        os.kill(self.pid(), signal.SIGKILL)
        time.sleep(seconds)  # the outage itself: how long Redis stays away
        redis_server.start(self.folder)

    def stop(self) -> None:
        try:
            redis.Redis.from_url(self.url).shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass


@pytest.fixture
def private_redis(app, tmp_path, monkeypatch):
    # The session's shared server stays the one this module stops at the end of the run.
    monkeypatch.setattr(redis_server, "_started", redis_server._started)
    shared_url = app.config["REDIS_URL"]
    server = PrivateRedis(tmp_path / "redis-home")
    app.config["REDIS_URL"] = server.url
    app.extensions.pop("stockroom_redis", None)
    yield server
    app.config["REDIS_URL"] = shared_url
    app.extensions.pop("stockroom_redis", None)
    server.stop()


@pytest.fixture
def start_workers(app, private_redis, tmp_path):
    """Real worker processes on this test's Redis, with short leases and sweeps."""
    env = worker_environment(app, tmp_path / "worker-instance", PIPELINE_LEASE_SECONDS=6, PIPELINE_SWEEP_SECONDS=3,
                             PIPELINE_REQUEUE_GRACE_SECONDS=5, WORKER_RECONNECT_MAX_SECONDS=2)
    started: list[WorkerProcess] = []

    def _start(count: int, **settings) -> list[WorkerProcess]:
        for _ in range(count):
            name = f"{app.config['REDIS_NAMESPACE']}-w{len(started) + 1}"
            worker_env = {**env, **{key: str(value) for key, value in settings.items()}}
            started.append(WorkerProcess(worker_env, tmp_path / f"{name}.log", name))
        return started[-count:]

    yield _start
    for worker in started:
        worker.stop()


def _poll(fn, timeout: float):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        db.session.rollback()  # a fresh snapshot: the workers write from other processes
        db.session.expire_all()
        value = fn()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout} s")


def test_pipeline_finishes_every_product_through_a_redis_restart(app, org, manager, private_redis, start_workers):
    catalogue_item(org)
    product_ids = [create_product(org, manager, EAN_PHOTO, BLANK_PHOTO).id for _ in range(4)]
    db.session.commit()
    workers = start_workers(1)

    def running():
        return db.session.scalar(select(func.count()).select_from(ProductPhase).where(
            ProductPhase.product_id.in_(product_ids), ProductPhase.status == PhaseStatus.RUNNING))

    _poll(running, 90)
    private_redis.outage(4)

    final = (ProductStatus.COMPLETED, ProductStatus.NEEDS_REVIEW)

    def all_done():
        return all(db.session.get(Product, pid).status in final for pid in product_ids)

    _poll(all_done, 180)
    phases = db.session.scalars(select(ProductPhase).where(ProductPhase.product_id.in_(product_ids))).all()
    assert phases and all(p.attempts == 1 for p in phases), [(p.product_id, p.name, p.attempts) for p in phases]
    assert all(w.proc.poll() is None for w in workers)
    assert "Redis" in workers[0].log_path.read_text()


def test_batch_finishes_every_row_once_through_a_redis_restart(app, manager_client, private_redis, start_workers):
    app.config.update(BATCH_LEASE_SECONDS=4, BATCH_CHUNK_SIZE=20)
    workers = start_workers(2, BATCH_LEASE_SECONDS=4, BATCH_CHUNK_SIZE=20)
    batch = upload_and_start(manager_client, products_csv(400), jobs=2)
    batch_id, total = batch.id, batch.total_rows

    def progressing():
        return db.session.scalar(select(Batch.processed_rows).where(Batch.id == batch_id)) >= 20

    _poll(progressing, 90)
    private_redis.outage(4)

    def finished():
        return db.session.scalar(select(Batch.status).where(Batch.id == batch_id)) in (
            BatchStatus.COMPLETED, BatchStatus.COMPLETED_WITH_ERRORS)

    _poll(finished, 240)
    batch = db.session.get(Batch, batch_id)
    counts = dict(db.session.execute(select(BatchRow.status, func.count()).where(BatchRow.batch_id == batch_id)
                                     .group_by(BatchRow.status)).all())
    assert counts == {"completed": total}
    # Each row counted once: a row finished twice would push the counters past the total.
    assert (batch.processed_rows, batch.successful_rows, batch.failed_rows) == (total, total, 0)
    assert all(w.proc.poll() is None for w in workers)


def test_while_redis_is_down_pages_answer_and_a_queue_page_says_busy(app, admin_client, private_redis):
    assert admin_client.get("/").status_code == 200
    os.kill(private_redis.pid(), signal.SIGKILL)
    page = admin_client.get("/")  # the rate limiter counts in the process meanwhile
    assert page.status_code == 200
    assert "not known, the job queue is not reachable" in page.get_data(as_text=True)
    response = admin_client.get("/admin/jobs")
    assert response.status_code == 503
    assert "the job queue is not reachable" in response.get_data(as_text=True)
    redis_server.start(private_redis.folder)
    assert admin_client.get("/admin/jobs").status_code == 200


def test_events_lost_in_an_outage_make_open_pages_refetch(app, org, private_redis):
    from app.core.events import RESYNC, get_broker, publish

    broker = get_broker()
    stream = broker.subscribe(org.id)
    assert broker.ready.wait(10)
    os.kill(private_redis.pid(), signal.SIGKILL)
    publish(org.id, "product", {"product_id": 1})  # the write it announces stands; no error reaches the caller
    redis_server.start(private_redis.folder)
    assert stream.get(timeout=30) == RESYNC
    broker.unsubscribe(org.id, stream)


def test_a_delayed_job_runs_on_time_after_a_redis_restart(app, private_redis, start_workers):
    """The worker's scheduler cannot let go of its lock (it lives 61 s) while Redis is away; the fresh
    worker started after the outage takes it over at once, so a job delayed by a second is not late
    by a minute (a batch's backed-off chunk, a webhook's next try)."""
    from datetime import timedelta

    from rq.job import JobStatus
    from rq.scheduler import RQScheduler

    from app.core.queue import get_queue

    workers = start_workers(1)
    lock = RQScheduler.get_locking_key(get_queue("low").name)
    client = redis.Redis.from_url(private_redis.url)
    _poll(lambda: client.get(lock), 60)  # the worker's scheduler holds the lock
    # Busy when Redis goes: RQ's loop, watching its work horse, gives up and a fresh worker starts.
    busy = get_queue("default").enqueue("time.sleep", 4)
    _poll(lambda: busy.get_status(refresh=True) == JobStatus.STARTED, 30)
    private_redis.outage(2)

    job = get_queue("low").enqueue_in(timedelta(seconds=1), "os.getpid")
    _poll(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 30)
    assert "starting a fresh worker" in workers[0].log_path.read_text()
