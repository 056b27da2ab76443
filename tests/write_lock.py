"""How long each connection holds SQLite's write lock, measured from the engine's own events.

The lock is taken by `BEGIN IMMEDIATE` (see app.core.database) or, in a deferred transaction, by
its first write statement: a hold starts when that statement returns (time spent waiting for the
lock is not holding it), and ends at COMMIT or ROLLBACK. Each hold is recorded with the
statement that took the lock, so a failing test says which code held it.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import event

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


@dataclass
class Hold:
    seconds: float
    taken_by: str  # the statement that took the lock (first 120 characters)
    thread: str


@dataclass
class WriteLockWatch:
    holds: list[Hold] = field(default_factory=list)
    engine: object = None  # the engine watched, once attached
    _open: dict[int, tuple[float, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, engine) -> WriteLockWatch:
        event.listen(engine, "after_cursor_execute", self._statement)
        event.listen(engine, "commit", self._release)
        event.listen(engine, "rollback", self._release)
        self.engine = engine
        return self

    def detach(self) -> None:
        event.remove(self.engine, "after_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._release)
        event.remove(self.engine, "rollback", self._release)

    def _statement(self, conn, _cursor, statement, _params, _context, _many) -> None:
        words = statement.lstrip().upper()
        if not words.startswith(WRITES):
            return
        ident = id(conn.connection.dbapi_connection)
        with self._lock:
            self._open.setdefault(ident, (time.monotonic(), statement.strip()[:120]))

    def _release(self, conn) -> None:
        ident = id(conn.connection.dbapi_connection)
        with self._lock:
            opened = self._open.pop(ident, None)
            if opened is not None:
                self.holds.append(Hold(time.monotonic() - opened[0], opened[1], threading.current_thread().name))

    def longest(self) -> Hold | None:
        with self._lock:
            return max(self.holds, key=lambda h: h.seconds, default=None)
