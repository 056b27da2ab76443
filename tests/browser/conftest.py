"""Playwright against a live server and a live worker, in Debian's Chromium (no browser download).

Without a Chromium these tests skip, and the run says so loudly; with STOCKROOM_REQUIRE_BROWSER=1
(CI) they fail instead.
"""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD
from tests.workers import live_worker, start_worker, wait_until, worker_env  # noqa: F401 (fixtures)

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
