"""Real parts for every test: a fresh database per test (SQLite file, or PostgreSQL when
DATABASE_URL is set), a real Redis (embedded, or REDIS_URL) isolated per test by namespace,
jobs run by a real RQ worker in burst mode, and logged-in clients that send CSRF tokens."""
from __future__ import annotations

import atexit
import contextvars
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"

# Nothing a test does may write into the project's own instance folder.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="stockroom-tests-"))
atexit.register(shutil.rmtree, _SESSION_DIR, True)  # also when no test used `infra` (first registered: runs last)
os.environ["STOCKROOM_INSTANCE"] = str(_SESSION_DIR / "instance")

from flask import has_app_context  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.config import database_url  # noqa: E402
from app.core import redis_server  # noqa: E402
from app.core.events import stop_brokers  # noqa: E402
from app.core.models import Organisation, Role, User  # noqa: E402
from app.core.users import organisation_get_or_create, user_create  # noqa: E402
from app.extensions import db  # noqa: E402

PASSWORD = "correct-horse-battery"


@dataclass
class Infra:
    kind: str
    redis_url: str
    url: str | None = None  # PostgreSQL: the session's private database
    template: Path | None = None  # SQLite: a migrated file copied for each test


def _migrate(url: str, redis_url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "TESTING": True})
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()


@pytest.fixture(scope="session")
def infra():
    redis_url = os.environ.get("REDIS_URL") or redis_server.ensure_running(_SESSION_DIR / "redis-home")
    raw = os.environ.get("DATABASE_URL", "")
    if raw.startswith(("postgres://", "postgresql")):
        server = make_url(database_url(raw))
        name = f"stockroom_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        _migrate(url, redis_url)
        yield Infra("postgresql", redis_url, url=url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        template = _SESSION_DIR / "template.db"
        _migrate(f"sqlite:///{template}", redis_url)
        yield Infra("sqlite", redis_url, template=template)
    redis_server.stop()
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))]
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db_url(infra, tmp_path) -> str:
    """A fresh, migrated, empty database for this test."""
    if infra.kind == "sqlite":
        target = tmp_path / "test.db"
        shutil.copyfile(infra.template, target)
        return f"sqlite:///{target}"
    _truncate_all(infra.url)
    return infra.url


@pytest.fixture
def app_config(infra, db_url, tmp_path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": db_url,
        "REDIS_URL": infra.redis_url,
        "REDIS_NAMESPACE": "t" + uuid.uuid4().hex[:12],
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "BACKUP_DIR": str(tmp_path / "backups"),
        "TESTING": True,
        "SERVER_NAME": None,
        # The outbound guard refuses addresses inside the network; tests' stand-in servers for the
        # providers listen on 127.0.0.1, so the tests say so explicitly, as an operator would.
        "OUTBOUND_ALLOW_CIDRS": "127.0.0.1/32",
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
        _clear_namespace(app)
        stop_brokers(app.config["REDIS_NAMESPACE"])


def _clear_namespace(app) -> None:
    from app.core.queue import get_redis

    ns = app.config["REDIS_NAMESPACE"]
    client = get_redis()
    for pattern in (f"{ns}:*", f"rq:*:{ns}:*", f"rq:*{ns}:q:*"):
        keys = list(client.scan_iter(pattern, count=1000))
        if keys:
            client.delete(*keys)


# --- users and clients ----------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" type="hidden" value="([^"]+)"')


class Client(FlaskClient):
    """A test client that adds the CSRF token to every form POST and HTMX request.

    Each request runs in an empty context, so it gets its own application context (its own `g`,
    current user and database session) like a real request would, instead of sharing the test's.
    The test's session is committed first: the request sees what the test wrote, and the test's
    objects are expired, so it sees what the request wrote.
    """

    csrf_token: str | None = None

    def fetch_csrf(self) -> str:
        page = self.get("/login" if self.csrf_token is None else "/").get_data(as_text=True)
        match = CSRF_RE.search(page)
        assert match, "no CSRF token on the page"
        self.csrf_token = match.group(1) or match.group(2)
        return self.csrf_token

    def open(self, *args, **kwargs):
        method = kwargs.get("method", "GET").upper()
        if kwargs.pop("csrf", True) and method in ("POST", "PUT", "PATCH", "DELETE"):
            token = self.csrf_token or self.fetch_csrf()
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", token)
            kwargs["headers"] = headers
        if has_app_context():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)

    def htmx(self, method: str, url: str, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers["HX-Request"] = "true"
        return self.open(url, method=method.upper(), headers=headers, **kwargs)


@pytest.fixture
def make_org(app):
    def _make(name: str) -> Organisation:
        org = organisation_get_or_create(name)
        db.session.commit()
        return org

    return _make


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def _make(org: Organisation, role: Role | str = Role.ADMIN, email: str | None = None,
              password: str = PASSWORD) -> User:
        role = Role(role)
        email = email or f"{role.value}{next(counter)}@{re.sub(r'[^a-z]', '', org.name.lower()) or 'org'}.test"
        return user_create(org_id=org.id, email=email, password=password, role=role)

    return _make


@pytest.fixture
def org(make_org):
    return make_org("Acme Jewels")


@pytest.fixture
def other_org(make_org):
    return make_org("Rival Trading")


@pytest.fixture
def admin(org, make_user):
    return make_user(org, Role.ADMIN, "admin@acme.test")


@pytest.fixture
def manager(org, make_user):
    return make_user(org, Role.MANAGER, "manager@acme.test")


@pytest.fixture
def staff(org, make_user):
    return make_user(org, Role.STAFF, "staff@acme.test")


@pytest.fixture
def client_for(app):
    app.test_client_class = Client

    def _login(user: User | None, password: str = PASSWORD) -> Client:
        client = app.test_client()
        if user is not None:
            client.fetch_csrf()
            response = client.post("/login", data={"email": user.email, "password": password})
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
            client.fetch_csrf()
        return client

    return _login


@pytest.fixture
def client(client_for):
    return client_for(None)


@pytest.fixture
def admin_client(client_for, admin):
    return client_for(admin)


@pytest.fixture
def manager_client(client_for, manager):
    return client_for(manager)


@pytest.fixture
def staff_client(client_for, staff):
    return client_for(staff)


# --- jobs ------------------------------------------------------------------------------------

@pytest.fixture
def run_jobs(app):
    """Run every queued job with a real RQ worker in burst mode; returns how many ran."""
    from app.core.worker import build_worker

    def _run(max_jobs: int | None = None) -> int:
        db.session.commit()  # the worker must see what the test wrote, and not wait on its lock
        worker = build_worker(app, worker_class_path="app.core.worker.AppSimpleWorker")
        worker.work(burst=True, max_jobs=max_jobs, logging_level="WARNING")
        db.session.expire_all()
        worker.refresh()
        return worker.successful_job_count + worker.failed_job_count

    return _run


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say loudly when browser tests could not run."""
    skipped = terminalreporter.stats.get("skipped", [])
    if any("NO CHROMIUM FOUND" in str(getattr(r, "longrepr", "")) for r in skipped):
        terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED: no Chromium on this machine", red=True, bold=True)
        terminalreporter.write_line("Install Debian's 'chromium' package (CI does) to run them; "
                                    "STOCKROOM_REQUIRE_BROWSER=1 turns this into a failure.", red=True)
