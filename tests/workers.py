"""Real `worker.py` processes for tests, and the one polling helper.

Each worker runs in its own process group; `kill` takes the work horse RQ forked with it, so a
kill -9 lands in the middle of a job as a crash would.
"""
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
from tests.conftest import ROOT


def worker_environment(app, instance_dir, **extra) -> dict:
    """The environment a worker process needs to share this test's database, Redis and files."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "REDIS_NAMESPACE": app.config["REDIS_NAMESPACE"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "BACKUP_DIR": app.config["BACKUP_DIR"],
        "STOCKROOM_INSTANCE": str(instance_dir),
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ENCRYPTION_KEY": app.config["ENCRYPTION_KEY"],
        "OUTBOUND_ALLOW_CIDRS": app.config["OUTBOUND_ALLOW_CIDRS"],
        "PYTHONUNBUFFERED": "1",
    })
    env.update({name: str(value) for name, value in extra.items()})
    return env


class WorkerProcess:
    """One `worker.py` (forking RQ worker with its scheduler) writing to its own log file."""

    def __init__(self, env: dict, log_path, name: str):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "worker.py", "--name", name], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, sig=signal.SIGKILL) -> None:
        """Kill the worker and everything it forked (RQ puts its work horse in a group of its own)."""
        if self.proc.poll() is None:
            family = descendants(self.proc.pid)
            os.killpg(self.proc.pid, sig)
            for pid in family:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            self.proc.wait(15)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.kill(signal.SIGTERM)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def descendants(root: int) -> list[int]:
    """Every process below `root` (children, theirs, …), from /proc."""
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
def worker_env(app, tmp_path) -> dict:
    return worker_environment(app, tmp_path / "worker-instance")


@pytest.fixture
def start_worker(worker_env, tmp_path, app):
    """Start real `worker.py` processes on this test's queues; all are stopped at the end.

    `start_worker(name, **settings)`: settings are extra environment variables for that worker."""
    started: list[WorkerProcess] = []

    def _start(name: str | None = None, **settings) -> WorkerProcess:
        name = name or f"{app.config['REDIS_NAMESPACE']}-w{len(started) + 1}"
        env = {**worker_env, **{key: str(value) for key, value in settings.items()}}
        worker = WorkerProcess(env, tmp_path / f"{name}.log", name)
        started.append(worker)
        return worker

    yield _start
    for worker in started:
        worker.stop()
        # Shown with a failing test's report (pytest keeps the output of passing tests to itself).
        lines = Path(worker.log_path).read_text(errors="replace").splitlines()
        print(f"--- last lines of {Path(worker.log_path).name} ---", *lines[-40:], sep="\n")


@pytest.fixture
def live_worker(start_worker):
    return start_worker()


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1, fresh: bool = False):
    """Poll until predicate() is truthy (no fixed sleeps in tests); returns its value.

    `fresh`: forget what the session has loaded before each try, to see other processes' writes."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fresh:
            db.session.rollback()
            db.session.expire_all()
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
