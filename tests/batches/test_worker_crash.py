"""kill -9 a real worker in the middle of a batch: another worker finishes, every row exactly once."""
from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import func, select

from app.batches.models import IN_FLIGHT, Batch, BatchLog, BatchRow, BatchStatus, BatchWorker
from app.core.queue import all_queues
from app.extensions import db
from tests.batches.helpers import products_csv, upload_and_start
from tests.workers import descendants, start_worker, wait_until, worker_env  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
LEASE = 3


def _fresh(query):
    db.session.rollback()  # a new snapshot each poll: the workers write from other processes
    return db.session.execute(query).all()


def _kill_while_holding(worker, held, timeout: float = 60) -> list[int]:
    """kill -9 the worker while it holds rows; the rows it held. A chunk of fast rows is done in
    milliseconds: the worker and its work horse are frozen (SIGSTOP) while the rows are read, and let
    go again (SIGCONT) when they had just finished that chunk."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        wait_until(held, timeout)
        family = [worker.proc.pid, *descendants(worker.proc.pid)]
        _signal_all(family, signal.SIGSTOP)
        rows = held()
        if rows:
            worker.kill()
            return rows
        _signal_all(family, signal.SIGCONT)
    raise AssertionError("the victim never held rows long enough to be killed holding them")


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def test_killed_worker_rows_are_finished_by_another(app, manager_client, worker_env, start_worker):  # noqa: F811
    app.config.update(BATCH_LEASE_SECONDS=LEASE, BATCH_CHUNK_SIZE=5)
    worker_env.update(BATCH_LEASE_SECONDS=str(LEASE), BATCH_CHUNK_SIZE="5")
    ns = app.config["REDIS_NAMESPACE"]
    victim, survivor = start_worker(f"{ns}-victim"), start_worker(f"{ns}-survivor")
    redis = Redis.from_url(app.config["REDIS_URL"])
    wait_until(lambda: len({w.name for q in all_queues() for w in Worker.all(connection=redis, queue=q)}) >= 2, 60)

    batch = upload_and_start(manager_client, products_csv(120), jobs=2)
    batch_id, total = batch.id, batch.total_rows
    victims_rows = select(BatchRow.id).where(
        BatchRow.batch_id == batch_id, BatchRow.claimed_by == f"{ns}-victim", BatchRow.status.in_(IN_FLIGHT))
    orphans = _kill_while_holding(victim, lambda: [r.id for r in _fresh(victims_rows)])

    def finished():
        row = _fresh(select(Batch.status, Batch.processed_rows).where(Batch.id == batch_id))[0]
        return row.status in (BatchStatus.COMPLETED, BatchStatus.COMPLETED_WITH_ERRORS) and row

    # When the killed worker held RQ's scheduler lock, delayed chunk jobs wait until the survivor
    # takes the lock over (within one 10 s maintenance round on one machine; see test_scheduler_lock).
    wait_until(finished, 150)
    db.session.expire_all()
    batch = db.session.get(Batch, batch_id)
    counts = dict(db.session.execute(select(BatchRow.status, func.count()).where(BatchRow.batch_id == batch_id)
                                     .group_by(BatchRow.status)).all())
    assert counts == {"completed": total}
    assert (batch.processed_rows, batch.successful_rows, batch.failed_rows) == (total, total, 0)
    # The rows the victim held were handed back and finished by the survivor.
    victim_rows = db.session.scalars(select(BatchRow).where(BatchRow.id.in_(orphans))).all()
    assert all(r.results["worker"] == f"{ns}-survivor" for r in victim_rows)
    reaped = db.session.scalars(select(BatchLog).where(BatchLog.batch_id == batch_id, BatchLog.operation == "reap")).all()
    assert reaped
    assert db.session.scalar(select(BatchWorker.status).where(BatchWorker.instance == f"{ns}-victim")) == "stale"
    survivor.stop()
