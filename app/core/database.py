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

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

_busy_timeout_ms = 15000  # SQLITE_BUSY_TIMEOUT_SECONDS of the process's app (see init_app)
_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_immediate", default=False)


_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "unable to open database", "disk i/o error")


def database_lost(error: BaseException | None) -> bool:
    """True when `error` (or what caused it) says the database could not be reached or used for now,
    as opposed to a bug or bad data: a dropped or refused connection, or SQLite busy past its timeout."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, sa_exc.InterfaceError):
            return True
        if isinstance(error, sa_exc.OperationalError):
            if not type(error.orig).__module__.startswith("sqlite3"):
                return True  # PostgreSQL: connection, restart, failover, serialisation, deadlock
            return any(words in str(error.orig).lower() for words in _SQLITE_TRANSIENT)
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


@contextlib.contextmanager
def write_intent():
    """Transactions begun inside this block take SQLite's write lock up front."""
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


def end_read_transaction() -> None:
    """End the session's read-only transaction (and the lock a write-intent BEGIN took with it);
    refuse one with writes in it, which must be committed by its service first."""
    from app.extensions import db

    session = db.session()
    if session.new or session.dirty or session.deleted or session.info.get(_WRITES_PENDING):
        raise RuntimeError("commit before calling a model or other slow work: no write may be held during it")
    if session.in_transaction():
        session.commit()


@contextlib.contextmanager
def outside_write_lock():
    """Slow work (parsing an upload, a model call, image work) with no write lock held.

    The block's own queries are plain reads; its transaction is ended when it leaves, so the writes
    that follow begin afresh and hold the lock only for themselves."""
    from app.extensions import db

    end_read_transaction()
    token = _immediate.set(False)
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _immediate.reset(token)
    end_read_transaction()


_WRITES_PENDING = "writes_pending"


@event.listens_for(Session, "after_flush")
def _writes_flushed(session, _context) -> None:
    session.info[_WRITES_PENDING] = True


_AUTOFLUSH_BEFORE_READS = "autoflush_before_reads"


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITES_PENDING, None)
        if _AUTOFLUSH_BEFORE_READS in session.info:  # the end of `begin_reads_only`'s transaction
            session.autoflush = session.info.pop(_AUTOFLUSH_BEFORE_READS)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(_busy_timeout_ms)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def init_app(app) -> None:
    """Requests that may write (anything but GET/HEAD/OPTIONS) begin with the write lock."""
    global _busy_timeout_ms
    _busy_timeout_ms = int(app.config.get("SQLITE_BUSY_TIMEOUT_SECONDS", 15) * 1000)

    @app.before_request
    def _refuse_nul_characters():
        # PostgreSQL's text cannot hold a NUL character: one in a query parameter or a form field
        # (never typed by a person) made the first query that used it fail with a 500.
        from flask import request
        from werkzeug.exceptions import BadRequest

        values = list(request.args.values())
        if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            values += request.form.values()
        if any("\x00" in value for value in values):
            raise BadRequest("A query parameter or form field holds a NUL character.")

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


def begin_reads_only(session: Session) -> None:
    """Begin the session's next transaction for reads only (the caller rolls it back).

    On PostgreSQL at READ COMMITTED, its statements run each on its own (DBAPI autocommit): every
    statement takes its own snapshot at that level anyway, so a transaction around them added
    nothing but a BEGIN and a ROLLBACK round trip (a pipeline phase's reads: the server's work per
    product fell by a third). Flushing is off until the rollback, so an object changed by mistake is
    never written. On SQLite the transaction is a deferred one, as `_immediate` set to False gives."""
    if session.in_transaction():
        return  # already reading (or writing): go on in it
    session.info[_AUTOFLUSH_BEFORE_READS], session.autoflush = session.autoflush, False
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql" and dialect.default_isolation_level == "READ COMMITTED":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    else:
        session.begin()  # so that the rollback ends it, and gives autoflush back, even if nothing was read


def commit_keeping_loaded(session: Session) -> None:
    """Commit, the session's rows staying loaded as committed instead of expiring.

    For a worker that goes on at once with the rows it just wrote (they would be read again one by
    one on first touch); anything that must see other transactions' changes reads afresh."""
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def refresh_statistics(*tables: str) -> None:
    """Tell the query planner how large the tables are and how their values spread, after a bulk
    change (an import of thousands of rows). PostgreSQL's autovacuum does it in a while; SQLite
    never does it by itself, and without statistics its planner took the shortfall index as
    selective for "low stock" (13,600 of 50,000 items) and sorted every match for a page of 50
    (24 ms, 0.1 ms with statistics). SQLite reads at most 1,000 rows of each index (its
    `analysis_limit`), so this stays a few milliseconds on a large table. Commits."""
    from app.extensions import db

    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA analysis_limit=1000"))
    for table in tables:
        db.session.execute(text(f'ANALYZE "{table}"'))
    db.session.commit()
