"""A worker killed (kill -9) in the middle of analysis: another worker finishes the product."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.extensions import db
from app.pipeline.models import PhaseStatus, Product, ProductStatus
from tests.conftest import ROOT
from tests.pipeline.helpers import BLANK_PHOTO, EAN_PHOTO, catalogue_item, create_product

pytestmark = pytest.mark.slow


class Worker:
    """A real `worker.py` process (forking RQ worker with its scheduler) in its own process group."""

    def __init__(self, env: dict, log_path, name: str):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "worker.py", "--name", name], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, sig=signal.SIGKILL) -> None:
        """Kill the worker and everything it forked (RQ puts its work horse in a group of its own)."""
        if self.proc.poll() is None:
            family = _descendants(self.proc.pid)
            os.killpg(self.proc.pid, sig)
            for pid in family:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            self.proc.wait(15)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill(signal.SIGTERM)
        self.log.close()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.fixture
def workers(app, tmp_path):
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
        "REDIS_NAMESPACE": app.config["REDIS_NAMESPACE"], "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "STOCKROOM_INSTANCE": str(tmp_path / "worker-instance"), "SECRET_KEY": app.config["SECRET_KEY"],
        "PYTHONUNBUFFERED": "1", "PIPELINE_LEASE_SECONDS": "6", "PIPELINE_SWEEP_SECONDS": "3",
    })
    started: list[Worker] = []

    def start(name: str) -> Worker:
        worker = Worker(env, tmp_path / f"{name}.log", f"{app.config['REDIS_NAMESPACE']}-{name}")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _poll(fn, timeout: float):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        db.session.expire_all()
        value = fn()
        if value:
            return value
        db.session.rollback()
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


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
