"""Playwright against a live server and a live worker, in Debian's Chromium (no browser download).

Without a Chromium these tests skip, and the run says so loudly; with STOCKROOM_REQUIRE_BROWSER=1
(CI) they fail instead.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, ROOT

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
LAUNCH_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit if os.path.exists(explicit) else None
    return next((p for p in CHROMIUM_CANDIDATES if os.path.exists(p)), shutil.which("chromium"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        message = ("NO CHROMIUM FOUND: browser tests are skipped. Install Debian's 'chromium' package "
                   "(or set CHROMIUM_PATH) to run them.")
        if os.environ.get("STOCKROOM_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " STOCKROOM_REQUIRE_BROWSER=1 makes this a failure.")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=path, args=LAUNCH_ARGS, headless=True)
        yield instance
        instance.close()


class LiveServer:
    """The test's app served by a threaded WSGI server on a free local port."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def worker_env(app, tmp_path) -> dict:
    """The environment a worker process needs to share this test's database, Redis and files."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "REDIS_NAMESPACE": app.config["REDIS_NAMESPACE"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "BACKUP_DIR": app.config["BACKUP_DIR"],
        "STOCKROOM_INSTANCE": str(tmp_path / "worker-instance"),
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ENCRYPTION_KEY": app.config["ENCRYPTION_KEY"],
        "OUTBOUND_ALLOW_CIDRS": app.config["OUTBOUND_ALLOW_CIDRS"],
        "PYTHONUNBUFFERED": "1",
    })
    return env


class WorkerProcess:
    def __init__(self, env: dict, log_path, name: str):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "worker.py", "--name", name], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(15)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def start_worker(worker_env, tmp_path, app):
    """Start real `worker.py` processes on this test's queues; all are stopped at the end."""
    started: list[WorkerProcess] = []

    def _start(name: str | None = None) -> WorkerProcess:
        name = name or f"{app.config['REDIS_NAMESPACE']}-w{len(started) + 1}"
        worker = WorkerProcess(worker_env, tmp_path / f"{name}.log", name)
        started.append(worker)
        return worker

    yield _start
    for worker in started:
        worker.stop()


@pytest.fixture
def live_worker(start_worker):
    return start_worker()


@pytest.fixture
def context(browser, live_server):
    ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


def sign_in(page, user, password: str = PASSWORD) -> None:
    """Sign in through the real form and wait for the dashboard."""
    page.goto("/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Logout")


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll until predicate() is truthy (no fixed sleeps in tests); returns its value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
