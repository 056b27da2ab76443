"""Redis connection (embedded server when REDIS_URL is unset), queues and enqueue helpers."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
import redis.exceptions
from flask import current_app
from redis import Redis
from rq import Queue, Retry
from rq.job import Job
from rq.utils import import_attribute

from app.core import redis_server
from app.core.transactions import after_commit

QUEUE_NAMES = ("high", "default", "low")


def _driver_info() -> dict:
    """redis-py 7 reads its version from the package's metadata for every connection it opens (for
    CLIENT SETINFO): 3.5 ms in each forked work horse, which opens its own. Read once, here."""
    try:
        from redis.driver_info import DriverInfo
        from redis.utils import get_lib_version
    except ImportError:  # older redis-py: nothing to save
        return {}
    return {"driver_info": DriverInfo(name="redis-py", lib_version=get_lib_version())}


_DRIVER = _driver_info()

# What a client raises while Redis is stopped or restarting: callers that can ride it out catch these.
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def resolve_redis_url(config: dict) -> str:
    """REDIS_URL when set, else the embedded server of this instance folder (started if needed)."""
    if config.get("REDIS_URL"):
        return config["REDIS_URL"]
    url = redis_server.ensure_running(config["INSTANCE_DIR"])
    config["REDIS_URL"] = url
    return url


def redis_client(config) -> Redis:
    """A client with its own connection pool. With REDIS_MAX_CONNECTIONS, the pool never grows past
    it: a command waits for a free connection instead (the web process sets 1: a thousand event
    streams connecting at once would otherwise leave a thousand idle connections open)."""
    most = int(config.get("REDIS_MAX_CONNECTIONS") or 0)
    if most > 0:
        pool = redis.BlockingConnectionPool.from_url(config["REDIS_URL"], max_connections=most, timeout=20,
                                                     health_check_interval=30, **_DRIVER)
        return Redis(connection_pool=pool)
    return Redis.from_url(config["REDIS_URL"], health_check_interval=30, **_DRIVER)


def get_redis() -> Redis:
    """The application's shared Redis client (one connection pool per process)."""
    ext = current_app.extensions
    client = ext.get("stockroom_redis")
    if client is None:
        client = ext["stockroom_redis"] = redis_client(current_app.config)
    return client


def key(*parts: object) -> str:
    """A Redis key inside this app's namespace."""
    return ":".join([current_app.config["REDIS_NAMESPACE"], *map(str, parts)])


def queue_name(name: str) -> str:
    return key("q", name)


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    job_class = import_attribute(current_app.config["RQ_JOB_CLASS"])
    return Queue(queue_name(name), connection=get_redis(), job_class=job_class)


def all_queues() -> list[Queue]:
    return [get_queue(n) for n in QUEUE_NAMES]


def enqueue(func: Callable | str, *args: Any, queue: str = "default", org_id: int | None = None,
            job_id: str | None = None, timeout: int = 600, retries: int = 0,
            retry_intervals: list[int] | None = None, **kwargs: Any) -> Job:
    """Enqueue the job function `func` now. Prefer enqueue_after_commit inside a transaction."""
    retry = Retry(max=retries, interval=retry_intervals or [10, 30, 90]) if retries else None
    return get_queue(queue).enqueue_call(
        func, args=args, kwargs=kwargs or None, job_id=job_id, timeout=timeout, retry=retry,
        meta={"organisation_id": org_id}, result_ttl=3600, failure_ttl=7 * 24 * 3600,
    )


def enqueue_after_commit(func: Callable | str, *args: Any, **options: Any) -> None:
    """Enqueue once the current transaction commits (never for a rolled-back one)."""
    app = current_app._get_current_object()

    def _go() -> None:
        with app.app_context():
            enqueue(func, *args, **options)

    after_commit(_go)
