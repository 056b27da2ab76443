"""RQ workers that run every job inside the application context, and ride out outages.

A forked work horse never reuses the parent's database connections, and every job gets its own
session, removed when the job ends whatever happened.

Redis may stop and come back (a restart, a crash replayed from its append-only file). A busy
worker keeps its work horse running through it: the heartbeats it cannot send are skipped (the
job's progress lives in the database, under its own leases). If RQ's loop still gives up, `run`
waits for the horse, waits for Redis with backoff, and starts a fresh worker; jobs lost meanwhile
come back through the lease sweepers.

The database may go away too (a PostgreSQL restart or failover, a SQLite lock held longer than
the busy timeout). A job that fails for that reason does not fail: its work horse waits for the
database with the same backoff and runs the job again (jobs are given ids and safe to run twice;
what they had written before the loss was either committed or rolled back whole).
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time

from flask import Flask, current_app
from rq import SimpleWorker, Worker
from rq.job import Job
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.scripts import release_lock
from rq.utils import import_attribute
from sqlalchemy import text

from app.core import leases
from app.core.database import database_lost, write_intent
from app.core.queue import REDIS_DOWN, all_queues, get_redis
from app.extensions import db

log = logging.getLogger(__name__)
SHORT_LIFE_SECONDS = 10  # a worker that ends sooner than this waits longer before the next one


def wait_for_database(app: Flask, longest: float, *, should_stop=lambda: False) -> float:
    """Back off (0.5 s doubling up to `longest`) until the database answers; the seconds waited."""
    started, delay = time.monotonic(), 0.5
    while not _database_answers(app) and not should_stop():
        log.warning("the database is not reachable; trying again in %.1f s", delay)
        time.sleep(delay)
        delay = min(delay * 2, longest)
    return time.monotonic() - started


class AppJob(Job):
    """An RQ job that rides out a database outage: wait for the database, then run again."""

    def _execute(self):
        reruns = 0
        while True:
            try:
                return super()._execute()
            except Exception as error:
                app = current_app._get_current_object()
                if not database_lost(error) or reruns >= app.config["WORKER_DATABASE_RERUNS"]:
                    raise
                reruns += 1
                self.database_reruns = reruns  # what the job may find half done is its own (see app.pipeline.tasks)
                self._forget_connections()
                waited = wait_for_database(app, float(app.config["WORKER_RECONNECT_MAX_SECONDS"]),
                                           should_stop=self._worker_stopping)
                if not _database_answers(app):
                    # Its worker was asked to stop: waiting on would keep the worker from stopping for as
                    # long as the database stays away. The job ends failed; its leases bring the work back.
                    log.warning("job %s lost the database and its worker is stopping: the job ends here, its "
                                "work comes back when its lease runs out", self.id)
                    raise
                log.warning("job %s lost the database (%s); it answered again after %.1f s: running the job "
                            "again (%d of %d)", self.id, type(error).__name__, waited, reruns,
                            app.config["WORKER_DATABASE_RERUNS"])

    def _worker_stopping(self) -> bool:
        """Whether the worker running this job was asked to stop (RQ notes it in Redis for a busy worker;
        the work horse runs in a process group of its own and never sees the signal)."""
        if not getattr(self, "worker_name", None):
            return False
        try:
            return bool(self.connection.hexists(Worker.redis_worker_namespace_prefix + self.worker_name,
                                                "shutdown_requested_date"))
        except REDIS_DOWN:
            return False

    @staticmethod
    def _forget_connections() -> None:
        with contextlib.suppress(Exception):
            db.session.rollback()
        with contextlib.suppress(Exception):
            db.session.remove()
        db.engine.dispose()  # the horse's own connections: the broken ones must not be handed out again


def _no_pre_ping(engine) -> None:
    """A work horse's connections are its own, opened during its job and closed when it exits: none
    sits in its pool long enough to go stale, and a database that went away mid-job is what AppJob
    waits out and reruns for. So the horse's pool does not ping the server before each checkout,
    which cost a round trip per transaction (about ten a product, a quarter of the pipeline's round
    trips on PostgreSQL). The worker parent, whose connections wait between jobs, keeps pinging.
    (SQLAlchemy has no public switch for an existing pool; tests/core/test_worker_pool.py checks it.)"""
    engine.pool._pre_ping = False


def job_class(path) -> type:
    """The configured job class, with AppJob's outage handling added when it lacks it."""
    cls = import_attribute(path) if isinstance(path, str) else path
    if not issubclass(cls, AppJob):
        cls = type(f"App{cls.__name__}", (AppJob, cls), {})
    return cls


class AppWorkerMixin:
    flask_app: Flask | None = None
    lost_redis = False  # set when this worker saw Redis go away (run() then starts a fresh one)
    stop_before_start: _Stop | None = None  # run()'s own handler, in place while the worker starts

    def _install_signal_handlers(self):
        super()._install_signal_handlers()
        # A SIGTERM that came while the worker registered itself reached run()'s handler, not
        # RQ's: honour it now, or the worker would wait for jobs until a second signal.
        if self.stop_before_start is not None and self.stop_before_start.requested:
            self._stop_requested = True

    def _redis_gone(self, what: str, exc: Exception) -> None:
        if not self.lost_redis:
            log.warning("worker %s: Redis not reachable (%s); %s", self.name, exc, what)
        self.lost_redis = True

    @property
    def dequeue_timeout(self) -> int:
        # RQ waits for a job up to worker_ttl - 15 s (45 s) before its upkeep, so an idle worker
        # would notice a dead worker's expired leases that much later: wait one upkeep round at most.
        return max(1, int(self.maintenance_interval))

    def maintain_heartbeats(self, job):
        try:
            super().maintain_heartbeats(job)
        except REDIS_DOWN as exc:
            self._redis_gone("the job goes on without heartbeats", exc)

    def set_current_job_working_time(self, current_job_working_time, pipeline=None):
        try:
            super().set_current_job_working_time(current_job_working_time, pipeline=pipeline)
        except REDIS_DOWN as exc:
            self.current_job_working_time = current_job_working_time
            self._redis_gone("the job goes on without heartbeats", exc)

    def execute_job(self, job, queue):
        try:
            return super().execute_job(job, queue)
        except REDIS_DOWN as exc:
            self._redis_gone("the job's end could not be recorded; its lease brings it back", exc)
            raise

    def main_work_horse(self, job, queue):
        # The horse is a forked child: drop inherited pooled connections without closing the
        # parent's sockets (closing them would break the parent's own session).
        with self.flask_app.app_context():
            db.engine.dispose(close=False)
            _no_pre_ping(db.engine)
        return super().main_work_horse(job, queue)

    def perform_job(self, job, queue):
        with self.flask_app.app_context(), write_intent():
            try:
                return super().perform_job(job, queue)
            finally:
                db.session.remove()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def free_locks_of_dead_schedulers(connection, queue_names) -> None:
    """Give back a scheduler lock whose owner ran on this machine and whose process is gone (a worker
    killed with its scheduler keeps the lock for 61 s otherwise, and delayed jobs wait that long). An
    owner on another machine cannot be checked from here: its lock runs out by itself."""
    here = socket.gethostname()
    for name in queue_names:
        key = RQScheduler.get_locking_key(name)
        owner = connection.get(key)
        if not owner:
            continue
        owner = owner.decode()
        hostname, pid = (value.decode() if value else "" for value in
                         connection.hmget(SCHEDULER_KEY_TEMPLATE % owner, "hostname", "pid"))
        if hostname != here or not pid.isdigit() or int(pid) <= 0 or _process_alive(int(pid)):
            continue
        if release_lock(connection, key, owner):
            log.warning("gave back the scheduler lock of %s: its scheduler (pid %s, this machine) is gone", name, pid)


class AppWorker(AppWorkerMixin, Worker):
    """Forking worker (RQ's production choice: stop-job works, a crashing job cannot kill it).

    Its maintenance round (every `maintenance_interval` seconds, idle or busy) also runs the lease
    sweepers, so a dead worker's work comes back within a lease plus one round, whichever worker
    is alive, without waiting for RQ's scheduler (whose lock a worker that died on another machine
    keeps for a minute)."""

    def run_maintenance_tasks(self):
        if self.scheduler is not None and not (self.scheduler._process and self.scheduler._process.is_alive()):
            try:  # before RQ tries to take the lock over (in super())
                free_locks_of_dead_schedulers(self.connection, self.queue_names())
            except Exception:  # upkeep must never stop the worker
                log.warning("checking the scheduler lock failed", exc_info=True)
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
        return cls(all_queues(), connection=get_redis(), name=name,
                   job_class=job_class(job_class_path or app.config["RQ_JOB_CLASS"]),
                   # Notice a dead horse or an abandoned job in seconds, not RQ's ten minutes. Maintenance
                   # is also when a worker takes over the scheduler lock of a worker that died (the lock
                   # itself lives 61 s), so delayed jobs resume within about 70 s.
                   job_monitoring_interval=5, maintenance_interval=10, worker_ttl=60)


def _redis_answers(app: Flask) -> bool:
    with app.app_context():
        try:
            return bool(get_redis().ping())
        except REDIS_DOWN:
            return False


def _database_answers(app: Flask) -> bool:
    with app.app_context():
        try:
            db.session.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False
        finally:
            db.session.remove()


class _Stop:
    """SIGTERM/SIGINT while `run` waits between workers: stop waiting and exit.

    A plain flag and short sleeps: a threading.Event set from a signal handler can deadlock on
    its own lock when the signal lands while the main thread holds it."""

    def __init__(self):
        self.requested = False

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._ask)

    def _ask(self, *_) -> None:
        self.requested = True

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when asked to stop."""
        end = time.monotonic() + seconds
        while not self.requested and time.monotonic() < end:
            time.sleep(min(0.2, max(0.0, end - time.monotonic())))
        return self.requested


def _wait_for_orphan(worker, stop: _Stop) -> None:
    """A worker that gave up while its horse still ran: let the horse finish its job first."""
    pid = getattr(worker, "_horse_pid", 0)
    while pid:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done or stop.wait(0.5):
            return


def _wait_until_reachable(app: Flask, stop: _Stop, longest: float) -> bool:
    """Redis and the database both answer (True), or a stop was asked for (False)."""
    delay = 0.5
    while not (_redis_answers(app) and _database_answers(app)):
        log.warning("worker: Redis or the database is not reachable; trying again in %.1f s", delay)
        if stop.wait(delay):
            return False
        delay = min(delay * 2, longest)
    return True


def run(app: Flask, *, burst: bool = False, name: str | None = None, worker_class_path: str | None = None,
        job_class_path: str | None = None, logging_level: str = "INFO") -> int:
    """Work until stopped (or, with `burst`, until the queues are empty), starting a fresh worker
    after Redis or the database went away. Returns the process exit code."""
    stop, failures = _Stop(), 0
    longest = float(app.config.get("WORKER_RECONNECT_MAX_SECONDS", 30))
    while True:
        stop.install()
        if not _wait_until_reachable(app, stop, longest):
            return 0
        worker = build_worker(app, worker_class_path=worker_class_path, job_class_path=job_class_path, name=name)
        worker.stop_before_start = stop
        born = time.monotonic()
        try:
            with app.app_context():
                # The scheduler of the worker before this one (lost with Redis, or killed with its
                # process) could not give its lock back: its process is gone, so take over at once.
                with contextlib.suppress(*REDIS_DOWN):
                    free_locks_of_dead_schedulers(worker.connection, worker.queue_names())
                worker.work(burst=burst, with_scheduler=True, logging_level=logging_level)
        except REDIS_DOWN as exc:  # raised while tearing down (registering its death, stopping the scheduler)
            worker._redis_gone("the worker stopped", exc)
        if worker._stop_requested or worker._shutdown_requested_date is not None:
            return 0  # SIGTERM/SIGINT reached RQ's own handler (busy or idle): a stop, not an outage
        if burst and not worker.lost_redis:
            return 0
        stop.install()
        _wait_for_orphan(worker, stop)
        if not _wait_until_reachable(app, stop, longest):
            return 0
        with app.app_context(), contextlib.suppress(*REDIS_DOWN):
            worker.register_death()  # so the Jobs page does not list it and its name is free
        failures = failures + 1 if time.monotonic() - born < SHORT_LIFE_SECONDS else 0
        log.warning("worker %s stopped (Redis %s); starting a fresh worker", worker.name,
                    "went away" if worker.lost_redis else "or the database failed")
        if failures and stop.wait(min(2 ** failures, longest)):
            return 0
