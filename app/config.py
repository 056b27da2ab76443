"""Settings read from the environment, with embedded defaults that work on a fresh machine."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def instance_path() -> Path:
    """The folder for everything the app writes by itself (database, embedded Redis, secrets)."""
    return Path(os.environ.get("STOCKROOM_INSTANCE", PROJECT_ROOT / "instance")).resolve()


def _secret_key(folder: Path) -> str:
    # Generated once and kept, so sessions survive restarts and every process agrees on it.
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = folder / "secret_key"
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def database_url(raw: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment, then apply explicit overrides."""
    folder = instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "INSTANCE_DIR": str(folder),
        "SECRET_KEY": _secret_key(folder),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'stockroom.db'}"),
        "REDIS_URL": os.environ.get("REDIS_URL") or "",
        # Every Redis key, queue and channel starts with this, so several apps (or test runs)
        # can share one Redis server without seeing each other's work.
        "REDIS_NAMESPACE": os.environ.get("REDIS_NAMESPACE", "stockroom"),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or str(folder / "uploads"),
        "BACKUP_DIR": os.environ.get("BACKUP_DIR") or str(folder / "backups"),
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 120 * 1024 * 1024),
        "MAX_FORM_MEMORY_SIZE": 2 * 1024 * 1024,
        "MAX_FORM_PARTS": 1000,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
        # Dashboards stay open all day: tie the CSRF token to the session, not to a clock.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 5 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 5 minutes"),
        "RQ_WORKER_CLASS": os.environ.get("RQ_WORKER_CLASS", "app.core.worker.AppWorker"),
        "RQ_JOB_CLASS": os.environ.get("RQ_JOB_CLASS", "rq.job.Job"),
        "SSE_HEARTBEAT_SECONDS": _int("SSE_HEARTBEAT_SECONDS", 15),
        "WORKER_ALIVE_SECONDS": _int("WORKER_ALIVE_SECONDS", 60),
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # Optional online GTIN look-up (an Open Food Facts compatible server); off when empty.
        "GTIN_LOOKUP_URL": os.environ.get("GTIN_LOOKUP_URL", "").strip(),
        "GTIN_LOOKUP_TIMEOUT": float(os.environ.get("GTIN_LOOKUP_TIMEOUT") or 3),
    }
    if overrides:
        config.update(overrides)
        config["SQLALCHEMY_DATABASE_URI"] = database_url(config["SQLALCHEMY_DATABASE_URI"])
    return config
