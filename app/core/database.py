"""SQLite settings so the web process and the workers share one file safely.

WAL lets readers run beside a writer, and busy_timeout makes a writer wait instead of failing.
A deferred transaction that reads and then writes fails at once with "database is locked" when
another writer got in between, so work that writes (POST requests, worker jobs, or any block in
`write_intent()`) starts its transactions with BEGIN IMMEDIATE. Page reads keep a deferred BEGIN
and never queue behind a writer. On PostgreSQL none of this applies.
"""
from __future__ import annotations

import contextlib
import contextvars
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_immediate", default=False)


@contextlib.contextmanager
def write_intent():
    """Transactions begun inside this block take SQLite's write lock up front."""
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def init_app(app) -> None:
    """Requests that may write (anything but GET/HEAD/OPTIONS) begin with the write lock."""

    @app.before_request
    def _mark_writes():
        from flask import g, request

        if request.method not in ("GET", "HEAD", "OPTIONS"):
            g._write_intent = _immediate.set(True)

    @app.teardown_request
    def _unmark_writes(_exc):
        from flask import g

        token = g.pop("_write_intent", None)
        if token is not None:
            _immediate.reset(token)
