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


def _str(name: str, default: str = "") -> str:
    return (os.environ.get(name) or default).strip()


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


def _encryption_key(folder: Path) -> tuple[str, str]:
    """(keys, key file): ENCRYPTION_KEY when set, else a Fernet key generated once into the instance folder."""
    if os.environ.get("ENCRYPTION_KEY"):
        return os.environ["ENCRYPTION_KEY"].strip(), ""
    key_file = folder / "encryption_key"
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip(), str(key_file)
    from cryptography.fernet import Fernet

    with os.fdopen(fd, "w") as fh:
        fh.write(Fernet.generate_key().decode())
    return key_file.read_text().strip(), str(key_file)


def database_url(raw: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment, then apply explicit overrides."""
    folder = instance_path()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # database, keys and Redis files: ours alone
    encryption_key, encryption_key_file = _encryption_key(folder)
    config = {
        "INSTANCE_DIR": str(folder),
        "SECRET_KEY": _secret_key(folder),
        # Channel secrets, SMTP passwords and webhook secrets are encrypted under this (app.core.crypto).
        "ENCRYPTION_KEY": encryption_key,
        "ENCRYPTION_KEY_FILE": encryption_key_file,
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'stockroom.db'}"),
        "REDIS_URL": os.environ.get("REDIS_URL") or "",
        # Every Redis key, queue and channel starts with this, so several apps (or test runs)
        # can share one Redis server without seeing each other's work.
        "REDIS_NAMESPACE": os.environ.get("REDIS_NAMESPACE", "stockroom"),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or str(folder / "uploads"),
        "BACKUP_DIR": os.environ.get("BACKUP_DIR") or str(folder / "backups"),
        **web_settings(),
        # Optional online GTIN look-up (an Open Food Facts compatible server); off when empty.
        "GTIN_LOOKUP_URL": os.environ.get("GTIN_LOOKUP_URL", "").strip(),
        "GTIN_LOOKUP_TIMEOUT": float(os.environ.get("GTIN_LOOKUP_TIMEOUT") or 3),
        # Tech packs: a TTF/TTC/OTF for PDF text and drawn labels (empty: the packaged Unicode font),
        # and the longest a share link may work.
        "TECHFILES_PDF_FONT": os.environ.get("TECHFILES_PDF_FONT", "").strip(),
        "TECHFILES_SHARE_MAX_DAYS": _int("TECHFILES_SHARE_MAX_DAYS", 90),
        # `make run` fills a new instance's demo organisation with a warehouse; DEMO=0 starts empty.
        "DEMO": _bool("DEMO", True),
        **_ints(PIPELINE_SETTINGS),
        **_ints(BATCH_SETTINGS),
        **_ints(WORKER_SETTINGS),
        **_ints(STOCK_SETTINGS),
        **{name: _str(name, default) for name, default in PRICING_SETTINGS.items()},
        **{name: _str(name, default) for name, default in INBOX_SETTINGS.items()},
        **ai_settings(),
        **mail_settings(),
        **outbound_settings(),
        **_ints(CHANNEL_INT_SETTINGS),
        **{name: _str(name, default) for name, default in CHANNEL_URL_SETTINGS.items()},
        **backup_settings(),
        **account_settings(),
        **alert_settings(),
    }
    if overrides:
        config.update(overrides)
        config["SQLALCHEMY_DATABASE_URI"] = database_url(config["SQLALCHEMY_DATABASE_URI"])
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file cannot drop a connection: pinging it before each use only costs every work horse time.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {**config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_pre_ping": False}
    return config


def web_settings() -> dict:
    """Requests, cookies, CSRF, sign-in limits, workers and live updates."""
    return {
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
            "RQ_JOB_CLASS": os.environ.get("RQ_JOB_CLASS", "app.core.worker.AppJob"),
            "SSE_HEARTBEAT_SECONDS": _int("SSE_HEARTBEAT_SECONDS", 15),
            "WORKER_ALIVE_SECONDS": _int("WORKER_ALIVE_SECONDS", 60),
            "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
    }


# The intake pipeline (app.pipeline): leases, upload limits, fair ordering.
PIPELINE_SETTINGS = {
    "PIPELINE_LEASE_SECONDS": 30,  # a running phase not heard from for this long is requeued
    "PIPELINE_SWEEP_SECONDS": 20,  # how often dead phases are looked for
    # A queued phase whose job is not in Redis this long after queueing is sent again (an enqueue
    # lost while Redis restarted, or a job lost with a Redis that had no time to save it).
    "PIPELINE_REQUEUE_GRACE_SECONDS": 15,
    "PIPELINE_JOB_TIMEOUT": 900,
    "PIPELINE_JOB_SECONDS": 15,  # a phase job takes the next product's phase job itself until it has run this long (0: one product per job)
    "PIPELINE_OCR_THREADS": 1,  # threads per OCR run: one suits a worker per core (app.analysis.ocr)
    "PIPELINE_FAIR_SHARE": 5,  # products per uploader on the default queue before the rest go to "low"
    "PIPELINE_MAX_FILE_BYTES": 25 * 1024 * 1024,
    "PIPELINE_MAX_UPLOAD_BYTES": 100 * 1024 * 1024,
    "PIPELINE_MAX_PIXELS": 50_000_000,
    # Longest side of a photo: WebP cannot hold more than 16,383 px a side and JPEG 65,535, and
    # analysis re-encodes photos, so a longer side would be accepted and then fail every attempt.
    "PIPELINE_MAX_IMAGE_SIDE": 16_383,
}

# CSV batches (app.batches).
BATCH_SETTINGS = {
    "BATCH_MAX_UPLOAD_BYTES": 100 * 1024 * 1024,
    "BATCH_MAX_ROWS": 200_000,
    "BATCH_MAX_CONCURRENT_JOBS": 2,  # chunk jobs per batch
    "BATCH_CHUNK_SIZE": 20,  # rows a chunk job claims at once
    "BATCH_JOB_SECONDS": 5,  # a chunk job claims further chunks until it has run this long (0: one chunk)
    "BATCH_LEASE_SECONDS": 30,  # a killed worker's chunk goes back to the queue after this
    "BATCH_RETRY_BASE_SECONDS": 10,  # a failed row waits 1×, 2×, 4× this before its next attempt
    "BATCH_USER_CONCURRENT": 2,  # batches one person may have processing at once
    "BATCH_JOB_TIMEOUT": 900,
    "BATCH_PROGRESS_INTERVAL_MS": 500,  # live progress at most this often per batch
}

# Background upkeep shared by every domain (app.core.leases).
WORKER_SETTINGS = {
    # A worker that lost Redis or the database retries with backoff up to this long between tries.
    "WORKER_RECONNECT_MAX_SECONDS": 30,
    # The most connections one process opens to Redis for commands (0: as many as it needs);
    # wsgi.py sets 1 for web processes.
    "REDIS_MAX_CONNECTIONS": 0,
    # A job that lost the database waits for it and runs again at most this many times.
    "WORKER_DATABASE_RERUNS": 10,
    # How long a SQLite writer waits for another writer's lock before "database is locked".
    "SQLITE_BUSY_TIMEOUT_SECONDS": 15,
    "SWEEP_SECONDS": 20,  # the longest between two sweeps of expired leases
    "TECHFILES_LEASE_SECONDS": 30,  # a running tech-file collection not heard from this long resumes elsewhere
}

# Stock reservations (app.inventory.holds, app.orders.reservations): how long an unpaid confirmed order
# or a hold keeps its reservation when the organisation has not set it (0: until released by hand),
# and how often expired reservations are looked for.
STOCK_SETTINGS = {"STOCK_RESERVATION_HOURS": 0, "STOCK_EXPIRY_SWEEP_SECONDS": 60}

# Market research (app.listings.pricing): how far under the competitors, and the margin kept.
PRICING_SETTINGS = {"PRICING_UNDERCUT_PERCENT": "2", "PRICING_COST_MARKUP": "1.3"}

# The inbox's webhooks in and out.
INBOX_SETTINGS = {"INBOX_HOOK_LIMIT": "120 per minute", "WEBHOOK_RETRY_BASE_SECONDS": "30"}


def _ints(defaults: dict) -> dict:
    return {name: _int(name, default) for name, default in defaults.items()}


# Optional model providers, one prefix per feature (app.core.ai reads these; every one is off
# while its URL is empty). Values stay text here: a wrong price or timeout is reported by the
# feature that uses it, instead of stopping the whole app from starting.
AI_SETTINGS = {
    "AI_RETRIES": "1",
    "AI_RETRY_BACKOFF_SECONDS": "0.5",
    "VISION_API_URL": "", "VISION_API_KEY": "", "VISION_MODEL": "", "VISION_API_TIMEOUT": "30",
    "VISION_PRICE_PROMPT": "", "VISION_PRICE_COMPLETION": "", "VISION_CURRENCY": "USD",
    "TEXT_API_URL": "", "TEXT_API_KEY": "", "TEXT_MODEL": "gpt-4o-mini", "TEXT_API_TIMEOUT": "20",
    "TEXT_PRICE_IN_PER_1K": "", "TEXT_PRICE_OUT_PER_1K": "", "TEXT_PRICE_CURRENCY": "USD",
    "IMAGE_API_URL": "", "IMAGE_API_KEY": "", "IMAGE_MODEL": "gpt-image-1", "IMAGE_API_TIMEOUT": "120",
    "IMAGE_SIZE": "1024x1024", "IMAGE_PRICE_PER_IMAGE": "", "IMAGE_PRICE_CURRENCY": "USD",
    "TECHFILES_IMAGE_MODEL_URL": "", "TECHFILES_IMAGE_MODEL_TOKEN": "", "TECHFILES_IMAGE_MODEL": "gpt-image-1",
    "TECHFILES_IMAGE_MODEL_KINDS": "sketch", "TECHFILES_IMAGE_MODEL_TIMEOUT": "120",
    "TECHFILES_IMAGE_MODEL_PRICE_PER_IMAGE": "", "TECHFILES_IMAGE_MODEL_CURRENCY": "USD",
    "PRICE_PROVIDER_URL": "", "PRICE_PROVIDER_TOKEN": "", "PRICE_PROVIDER_TIMEOUT": "10",
    "PRICE_PROVIDER_PRICE_PER_CALL": "", "PRICE_PROVIDER_CURRENCY": "USD",
}

# The installation's own mail server, for account e-mails. (An organisation's replies to customers
# go through its channels, each with its own SMTP settings: app.inbox.channels.)
MAIL_SETTINGS = {
    "SMTP_HOST": "", "SMTP_PORT": "25", "SMTP_USER": "", "SMTP_PASSWORD": "", "SMTP_FROM": "stockroom@localhost",
    "SMTP_STARTTLS": "",
}


def mail_settings() -> dict:
    """The installation's SMTP settings from the environment."""
    return {name: _str(name, default) for name, default in MAIL_SETTINGS.items()}


# Outbound requests (app.core.http): addresses inside the network (loopback, private, link-local,
# cloud metadata…) are refused unless listed here. Hosts of the URLs the operator set below
# (model providers, price provider, GTIN look-up) are trusted as the operator's own choice;
# URLs typed by organisation admins (webhooks, providers' media links) never are.
OPERATOR_URL_SETTINGS = ("VISION_API_URL", "TEXT_API_URL", "IMAGE_API_URL", "TECHFILES_IMAGE_MODEL_URL",
                         "PRICE_PROVIDER_URL", "GTIN_LOOKUP_URL", "CHANNELS_TWILIO_API_URL", "CHANNELS_GRAPH_API_URL")


def outbound_settings() -> dict:
    """OUTBOUND_ALLOW_HOSTS (host names) and OUTBOUND_ALLOW_CIDRS (networks), comma-separated."""
    return {"OUTBOUND_ALLOW_HOSTS": _str("OUTBOUND_ALLOW_HOSTS"), "OUTBOUND_ALLOW_CIDRS": _str("OUTBOUND_ALLOW_CIDRS")}


# Message channels of the inbox (app.inbox.channels): the providers' API addresses, retries of
# replies, attachment limits and how long a signed body counts as a replay.
CHANNEL_URL_SETTINGS = {
    "CHANNELS_TWILIO_API_URL": "https://api.twilio.com",
    "CHANNELS_GRAPH_API_URL": "https://graph.facebook.com/v21.0",
}
CHANNEL_INT_SETTINGS = {
    "CHANNELS_RETRY_BASE_SECONDS": 30,  # a reply the provider could not take waits 1×, 2×, 4×… this
    "CHANNELS_MAX_ATTEMPTS": 5,
    "CHANNELS_TIMEOUT_SECONDS": 10,
    "CHANNELS_ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "CHANNELS_REPLAY_WINDOW_SECONDS": 7 * 24 * 3600,  # a signed body seen again within this is a replay
    "CHANNELS_SIGNATURE_MAX_AGE_SECONDS": 15 * 60,  # Mailgun's signed timestamp may be this old
    # Replay receipts older than this are deleted by the periodic sweep (never within the replay window).
    "CHANNELS_RECEIPT_RETENTION_DAYS": 30,
}


def ai_settings() -> dict:
    """The model providers' settings from the environment (see AI_SETTINGS for names and defaults)."""
    return {name: _str(name, default) for name, default in AI_SETTINGS.items()}


def alert_settings() -> dict:
    """The attention queue's alerts: how often conditions are looked at, the digest, retries, links."""
    return {
        "ALERTS_SCHEDULE": _bool("ALERTS_SCHEDULE", True),  # evaluate in the workers' upkeep, send digests
        "ALERTS_EVALUATE_SECONDS": _int("ALERTS_EVALUATE_SECONDS", 60),  # the longest before a condition alerts
        "ALERTS_DIGEST_HOUR": _int("ALERTS_DIGEST_HOUR", 7),  # UTC hour of the daily digest
        "ALERTS_RETRY_BASE_SECONDS": _int("ALERTS_RETRY_BASE_SECONDS", 30),  # failed sends wait 1×, 2×, 4×… this
        "ALERTS_MAX_ATTEMPTS": _int("ALERTS_MAX_ATTEMPTS", 6),
        "ALERTS_LOCK_SECONDS": _int("ALERTS_LOCK_SECONDS", 120),  # one evaluation per organisation at a time
        "ALERTS_BASE_URL": _str("ALERTS_BASE_URL", "http://127.0.0.1:5000"),  # links in e-mails and webhooks
        "ATTENTION_EXPIRY_HOURS": _int("ATTENTION_EXPIRY_HOURS", 24),  # reservations ending this soon are listed
    }


def backup_settings() -> dict:
    """Backups, their schedule and retention, drills, the optional bucket, and storage hygiene."""
    return {
        "BACKUP_SCHEDULE": _bool("BACKUP_SCHEDULE", True),  # daily backup, daily sweep, monthly drill
        "BACKUP_HOUR": _int("BACKUP_HOUR", 2),  # UTC hour of the daily backup
        "BACKUP_KEEP_DAILY": _int("BACKUP_KEEP_DAILY", 7),
        "BACKUP_KEEP_WEEKLY": _int("BACKUP_KEEP_WEEKLY", 4),
        "BACKUP_KEEP_MONTHLY": _int("BACKUP_KEEP_MONTHLY", 12),
        "BACKUP_DRILL_DAY": _int("BACKUP_DRILL_DAY", 1),  # day of the month of the scheduled drill
        "BACKUP_DRILL_HOUR": _int("BACKUP_DRILL_HOUR", 4),
        "BACKUP_STALE_HOURS": _int("BACKUP_STALE_HOURS", 26),  # health warns when the newest is older
        "BACKUP_LEASE_SECONDS": _int("BACKUP_LEASE_SECONDS", 120),
        "BACKUP_JOB_TIMEOUT": _int("BACKUP_JOB_TIMEOUT", 6 * 3600),
        "BACKUP_SCRATCH_URL": _str("BACKUP_SCRATCH_URL"),  # PostgreSQL server for scratch restores
        "BACKUP_S3_URL": _str("BACKUP_S3_URL"),  # s3://bucket/prefix; empty: no copy
        "BACKUP_S3_ENDPOINT": _str("BACKUP_S3_ENDPOINT"),  # a non-AWS S3-compatible server
        "BACKUP_S3_REGION": _str("BACKUP_S3_REGION"),
        "STORAGE_SWEEP": _bool("STORAGE_SWEEP", True),
        "STORAGE_SWEEP_HOUR": _int("STORAGE_SWEEP_HOUR", 3),
        "STORAGE_GRACE_DAYS": float(os.environ.get("STORAGE_GRACE_DAYS") or 7),
    }


def account_settings() -> dict:
    """Accounts (sessions, links sent by e-mail, two-factor) and the JSON API with its tokens."""
    from datetime import timedelta

    remember_days = _int("ACCOUNT_REMEMBER_DAYS", 14)
    return {
        "ACCOUNT_REMEMBER_DAYS": remember_days,  # "keep me signed in": the session lasts this long unused
        "ACCOUNT_SESSION_HOURS": _int("ACCOUNT_SESSION_HOURS", 24),  # otherwise, this long unused
        "PERMANENT_SESSION_LIFETIME": timedelta(days=remember_days),
        "ACCOUNT_INVITE_DAYS": _int("ACCOUNT_INVITE_DAYS", 7),
        "ACCOUNT_RESET_MINUTES": _int("ACCOUNT_RESET_MINUTES", 60),
        "ACCOUNT_RESET_LIMIT": _str("ACCOUNT_RESET_LIMIT", "5 per 15 minutes"),  # per address and per e-mail
        "ACCOUNT_BASE_URL": _str("ACCOUNT_BASE_URL"),  # links in e-mails; empty: the address the request came to
        "TWO_FACTOR_ISSUER": _str("TWO_FACTOR_ISSUER", "Stockroom"),
        "API_RATE_LIMIT": _str("API_RATE_LIMIT", "300 per minute"),  # per token
        "API_MAX_JSON_BYTES": _int("API_MAX_JSON_BYTES", 1024 * 1024),
        "API_TOKEN_MAX_DAYS": _int("API_TOKEN_MAX_DAYS", 366),
        "API_IDEMPOTENCY_HOURS": _int("API_IDEMPOTENCY_HOURS", 24),
    }
