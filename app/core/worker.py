"""RQ workers that run every job inside the application context.

A forked work horse never reuses the parent's database connections, and every job gets its own
session, removed when the job ends whatever happened.
"""
from __future__ import annotations

import logging

from flask import Flask
from rq import SimpleWorker, Worker
from rq.utils import import_attribute

from app.core import leases
from app.core.database import write_intent
from app.core.queue import all_queues, get_redis
from app.extensions import db

log = logging.getLogger(__name__)


class AppWorkerMixin:
    flask_app: Flask | None = None

    def main_work_horse(self, job, queue):
        # The horse is a forked child: drop inherited pooled connections without closing the
        # parent's sockets (closing them would break the parent's own session).
        with self.flask_app.app_context():
            db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)

    def perform_job(self, job, queue):
        with self.flask_app.app_context(), write_intent():
            try:
                return super().perform_job(job, queue)
            finally:
                db.session.remove()


class AppWorker(AppWorkerMixin, Worker):
    """Forking worker (RQ's production choice: stop-job works, a crashing job cannot kill it).

    Its maintenance round (every `maintenance_interval` seconds, idle or busy) also runs the lease
    sweepers, so a dead worker's work comes back within a lease plus one round, whichever worker
    is alive, without waiting for RQ's scheduler (whose lock a dead worker keeps for a minute)."""

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        with self.flask_app.app_context():
            try:
                leases.run_sweepers()
            except Exception:  # upkeep must never stop the worker
                log.warning("lease sweep in the worker failed", exc_info=True)
            finally:
                db.session.remove()


class AppSimpleWorker(AppWorkerMixin, SimpleWorker):
    """In-process worker: fast, for tests and benchmarks; cannot cancel a running job."""


def worker_class(path: str) -> type:
    cls = import_attribute(path) if isinstance(path, str) else path
    if not issubclass(cls, AppWorkerMixin):
        cls = type(f"App{cls.__name__}", (AppWorkerMixin, cls), {})
    return cls


def build_worker(app: Flask, *, worker_class_path: str | None = None, job_class_path: str | None = None,
                 name: str | None = None):
    """A worker on the high, default and low queues of this app, in that order."""
    with app.app_context():
        cls = worker_class(worker_class_path or app.config["RQ_WORKER_CLASS"])
        cls.flask_app = app
        job_class = import_attribute(job_class_path or app.config["RQ_JOB_CLASS"])
        return cls(all_queues(), connection=get_redis(), name=name, job_class=job_class,
                   # Notice a dead horse or an abandoned job in seconds, not RQ's ten minutes. Maintenance
                   # is also when a worker takes over the scheduler lock of a worker that died (the lock
                   # itself lives 61 s), so delayed jobs resume within about 70 s.
                   job_monitoring_interval=5, maintenance_interval=10, worker_ttl=60)
