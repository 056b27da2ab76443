"""The database goes away in the middle of the work and comes back: workers wait, reconnect and
finish everything, once, without a worker quitting or a job counted as failed.

PostgreSQL: the workers reach the server through a TCP relay that the test cuts (every open
connection dropped, new ones refused) and restores, as a restart or failover would look to them.
SQLite: another process holds the write lock longer than the workers' busy timeout, so their
writes fail with "database is locked" until it lets go."""
from __future__ import annotations

import contextlib
import signal
import socket
import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.batches.models import Batch, BatchRow, BatchStatus
from app.core.database import database_lost
from app.core.queue import all_queues
from app.extensions import db
from app.pipeline.models import PhaseStatus, Product, ProductPhase, ProductStatus
from tests.batches.helpers import products_csv, upload_and_start
from tests.pipeline.helpers import BLANK_PHOTO, EAN_PHOTO, catalogue_item, create_product
from tests.workers import wait_until

pytestmark = pytest.mark.slow


class TcpRelay:
    """Forwards 127.0.0.1:<port> to the database server; `cut` makes it look gone for a while."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = threading.Event()
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()  # the server is "away": the connection is refused at once
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.down.set()
        with self.lock:
            for end in self.open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            self.open.clear()

    def restore(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()


class Outage:
    """Takes the database away from the workers (not from the test) for a while, then gives it back."""

    def __init__(self, app):
        self.url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.relay = None
        if self.url.get_backend_name() == "postgresql":
            self.relay = TcpRelay(self.url.host or "127.0.0.1", self.url.port or 5432)

    def worker_settings(self) -> dict:
        if self.relay:
            relayed = self.url.set(host="127.0.0.1", port=self.relay.port)
            return {"DATABASE_URL": relayed.render_as_string(hide_password=False)}
        return {"SQLITE_BUSY_TIMEOUT_SECONDS": 1}

    def begin(self) -> None:
        """An outage that lasts until `end` (PostgreSQL only: the relay is cut)."""
        self.relay.cut()

    def end(self) -> None:
        self.relay.restore()

    def lasting(self, seconds: float) -> None:
        if self.relay:
            self.relay.cut()
            time.sleep(seconds)  # the outage itself
            self.relay.restore()
            return
        holder = sqlite3.connect(self.url.database, isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held far past the workers' 1 s busy timeout
        time.sleep(seconds)
        holder.execute("ROLLBACK")
        holder.close()

    def close(self) -> None:
        if self.relay:
            self.relay.close()


@pytest.fixture
def outage(app):
    taken = Outage(app)
    yield taken
    taken.close()


def _failed_jobs(app) -> int:
    with app.app_context():
        return sum(queue.failed_job_registry.count for queue in all_queues())


def _lost_the_database(worker) -> bool:
    return "lost the database" in worker.log_path.read_text()


def test_a_batch_finishes_every_row_once_through_a_database_outage(app, manager_client, outage, start_worker):
    settings = {**outage.worker_settings(), "BATCH_LEASE_SECONDS": 6, "BATCH_CHUNK_SIZE": 10,
                "WORKER_RECONNECT_MAX_SECONDS": 1}
    workers = [start_worker(**settings), start_worker(**settings)]
    batch = upload_and_start(manager_client, products_csv(300), jobs=2)
    batch_id, total = batch.id, batch.total_rows
    wait_until(lambda: db.session.scalar(select(Batch.processed_rows).where(Batch.id == batch_id)) >= 20,
               timeout=90, interval=0.2, fresh=True)
    outage.lasting(5)
    wait_until(lambda: db.session.scalar(select(Batch.status).where(Batch.id == batch_id)) in (
        BatchStatus.COMPLETED, BatchStatus.COMPLETED_WITH_ERRORS), timeout=240, interval=0.3, fresh=True)
    batch = db.session.get(Batch, batch_id)
    counts = dict(db.session.execute(select(BatchRow.status, func.count()).where(BatchRow.batch_id == batch_id)
                                     .group_by(BatchRow.status)).all())
    assert counts == {"completed": total}
    # Each row counted once: a row finished twice would push the counters past the total.
    assert (batch.processed_rows, batch.successful_rows, batch.failed_rows) == (total, total, 0)
    assert all(w.proc.poll() is None for w in workers), "a worker quit"
    assert _failed_jobs(app) == 0, "an outage counted as a failed job"
    assert any(_lost_the_database(w) for w in workers), "the outage never reached a job"


def test_pipeline_phases_finish_once_through_a_database_outage(app, org, manager, outage, start_worker):
    catalogue_item(org)
    product_ids = [create_product(org, manager, EAN_PHOTO, BLANK_PHOTO).id for _ in range(4)]
    db.session.commit()
    worker = start_worker(**outage.worker_settings(), WORKER_RECONNECT_MAX_SECONDS=1)
    wait_until(lambda: db.session.scalar(select(func.count()).select_from(ProductPhase).where(
        ProductPhase.product_id.in_(product_ids), ProductPhase.status == PhaseStatus.COMPLETED)) >= 1,
        timeout=120, interval=0.2, fresh=True)
    outage.lasting(5)
    final = (ProductStatus.COMPLETED, ProductStatus.NEEDS_REVIEW)
    wait_until(lambda: all(db.session.get(Product, pid).status in final for pid in product_ids),
               timeout=240, interval=0.3, fresh=True)
    phases = db.session.scalars(select(ProductPhase).where(ProductPhase.product_id.in_(product_ids))).all()
    assert phases and all(p.status == PhaseStatus.COMPLETED for p in phases), \
        [(p.product_id, p.name, p.status, p.error) for p in phases]
    # The outage cost no phase an attempt (a phase has three before it fails for good).
    assert all(p.attempts == 1 for p in phases), [(p.product_id, p.name, p.attempts) for p in phases]
    assert _failed_jobs(app) == 0, "an outage counted as a failed job"
    assert worker.proc.poll() is None, "the worker quit"


def test_a_worker_asked_to_stop_while_its_job_waits_for_the_database_stops(app, manager_client, outage,
                                                                              start_worker):
    """A warm stop waits for the running job; a job waiting for a database that stays away would hold
    the worker for as long as the outage lasts. It ends instead, and its rows come back by their lease."""
    if outage.relay is None:
        pytest.skip("SQLite answers reads while another process holds its write lock: reruns end by their count")
    settings = {**outage.worker_settings(), "BATCH_LEASE_SECONDS": 6, "BATCH_CHUNK_SIZE": 10,
                "BATCH_JOB_SECONDS": 60, "WORKER_RECONNECT_MAX_SECONDS": 1}
    worker = start_worker(**settings)
    batch = upload_and_start(manager_client, products_csv(300), jobs=1)
    batch_id, total = batch.id, batch.total_rows
    wait_until(lambda: db.session.scalar(select(Batch.processed_rows).where(Batch.id == batch_id)) >= 10,
               timeout=90, interval=0.2, fresh=True)
    outage.begin()
    wait_until(lambda: "the database is not reachable" in worker.log_path.read_text(), timeout=60, interval=0.2)
    worker.proc.send_signal(signal.SIGTERM)
    worker.proc.wait(30)  # the database is still away
    assert "its worker is stopping: the job ends here" in worker.log_path.read_text()

    outage.end()
    start_worker(**settings)
    wait_until(lambda: db.session.scalar(select(Batch.status).where(Batch.id == batch_id)) in (
        BatchStatus.COMPLETED, BatchStatus.COMPLETED_WITH_ERRORS), timeout=240, interval=0.3, fresh=True)
    counts = dict(db.session.execute(select(BatchRow.status, func.count()).where(BatchRow.batch_id == batch_id)
                                     .group_by(BatchRow.status)).all())
    assert counts == {"completed": total}
    batch = db.session.get(Batch, batch_id)
    assert (batch.processed_rows, batch.successful_rows, batch.failed_rows) == (total, total, 0)


def test_only_outages_count_as_a_lost_database():
    from sqlalchemy.exc import IntegrityError, OperationalError

    locked = OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))
    no_table = OperationalError("SELECT …", {}, sqlite3.OperationalError("no such table: products"))
    duplicate = IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert database_lost(locked)
    assert not database_lost(no_table)  # a bug: running it again would fail the same way
    assert not database_lost(duplicate)
    assert not database_lost(ValueError("bad row"))
    try:
        try:
            raise locked
        except OperationalError as inner:
            raise RuntimeError("while saving the row") from inner
    except RuntimeError as wrapped:
        assert database_lost(wrapped)
