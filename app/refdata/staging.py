"""Where checked reference rows go while the file is read, until they are all in or all out.

Two ways, chosen by `open_loader`; both work in three steps: `prepare(rows)` in whichever process
parsed the rows (the import's own, or a worker), `accept(payload)` in the import's process,
`finish(...)` to make it all count (or `discard` to leave nothing).

* `Staging`: rows are staged by the process that parsed them, so no row crosses a process
  boundary: on SQLite each process writes a throwaway database file of its own (no lock on the
  main database); on PostgreSQL each writes into one UNLOGGED table with COPY. `finish` upserts
  everything into `reference_products` in one transaction, the last line winning for a GTIN
  seen twice.
* `DirectCopy` (PostgreSQL, into an empty table: the first load): workers turn rows into COPY
  text, the import's process streams it into `reference_products` inside one transaction, and
  commits at the end. A GTIN seen twice in the file breaks the COPY (unique key): the import
  then starts again through `Staging`.
"""
from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("gtin", "name", "brand", "brand_key", "quantity", "categories", "image_url")
_CREATE = ("(seq INTEGER, gtin VARCHAR(14), name VARCHAR(300), brand VARCHAR(200), brand_key VARCHAR(120), "
           "quantity VARCHAR(120), categories TEXT, image_url VARCHAR(500))")


@dataclass(frozen=True)
class Staging:
    """A staging area: `folder` of per-process SQLite files, or a PostgreSQL `table` at `url`."""

    dialect: str
    folder: str | None = None
    url: str | None = None
    table: str | None = None

    @classmethod
    def create(cls, dialect: str, *, folder: Path, url: str, connection) -> Staging:
        if dialect == "postgresql":
            table = f"reference_stage_{uuid.uuid4().hex[:12]}"
            cursor = connection.cursor()
            cursor.execute(f"CREATE UNLOGGED TABLE {table} {_CREATE}")
            connection.commit()
            return cls(dialect, url=_libpq_url(url), table=table)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(dialect, folder=str(folder))

    def prepare(self, rows: list[tuple]) -> None:
        """Stage rows (ReferenceRow tuples: line number first) from the calling process."""
        if rows:
            self.add(rows)

    def accept(self, payload) -> None:
        """Nothing to do in the import's process: the rows are staged already."""

    def finish(self, connection, source: str, now) -> int:
        close_connections()
        return self.merge(connection, source, now)

    def add(self, rows: list[tuple]) -> None:
        """Stage rows (ReferenceRow tuples: line number first) from the calling process."""
        if self.dialect == "postgresql":
            conn = _pg_connection(self.url)
            with conn.cursor() as cursor, cursor.copy(f"COPY {self.table} (seq, {', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            return
        conn = _sqlite_file(self.folder)
        conn.executemany("INSERT INTO stage VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.commit()

    def merge(self, connection, source: str, now) -> int:
        """Upsert every staged row into reference_products in one transaction; returns how many are new."""
        cursor = connection.cursor()
        columns = ", ".join(COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in (*COLUMNS[1:], "source", "fetched_at"))
        if self.dialect == "postgresql":
            cursor.execute("SELECT count(*) FROM reference_products")
            before = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO reference_products ({columns}, source, fetched_at) "
                f"SELECT DISTINCT ON (gtin) {columns}, %s, %s FROM {self.table} ORDER BY gtin, seq DESC "
                f"ON CONFLICT (gtin) DO UPDATE SET {updates}", (source, now))
            cursor.execute("SELECT count(*) FROM reference_products")
            added = cursor.fetchone()[0] - before
            connection.commit()
            return added
        _close_sqlite_file()
        files = sorted(Path(self.folder).glob("stage-*.db"))
        for n, path in enumerate(files):
            cursor.execute(f"ATTACH DATABASE ? AS stage{n}", (str(path),))
        try:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("SELECT count(*) FROM reference_products")
            before = cursor.fetchone()[0]
            if files:
                union = " UNION ALL ".join(f"SELECT * FROM stage{n}.stage" for n in range(len(files)))
                # Key order makes the inserts appends to the index; seq keeps the last line last.
                cursor.execute(
                    f"INSERT INTO reference_products ({columns}, source, fetched_at) "
                    f"SELECT {columns}, ?, ? FROM ({union}) WHERE true ORDER BY gtin, seq "
                    f"ON CONFLICT (gtin) DO UPDATE SET {updates}", (source, now))
            cursor.execute("SELECT count(*) FROM reference_products")
            added = cursor.fetchone()[0] - before
            cursor.execute("COMMIT")
            return added
        finally:
            if connection.in_transaction:
                cursor.execute("ROLLBACK")
            for n in range(len(files)):
                cursor.execute(f"DETACH DATABASE stage{n}")

    def discard(self, connection) -> None:
        """Remove the staging area (after a merge or instead of one)."""
        if self.dialect == "postgresql":
            connection.rollback()
            connection.cursor().execute(f"DROP TABLE IF EXISTS {self.table}")
            connection.commit()
            return
        _close_sqlite_file()
        for path in Path(self.folder).glob("stage-*.db*"):
            path.unlink(missing_ok=True)


class DuplicateInFile(Exception):
    """The file names a GTIN twice: a direct COPY cannot take it."""


class DirectCopy:
    """COPY straight into an empty reference_products table, in one transaction (see module doc)."""

    def __init__(self, connection, source: str, now):
        self.connection, self.source, self.now = connection, source, now.isoformat()
        self.cursor = connection.cursor()
        self._copy_context = self.cursor.copy(
            f"COPY reference_products ({', '.join(COLUMNS)}, source, fetched_at) FROM STDIN")
        self.copy = self._copy_context.__enter__()
        self.rows = 0

    def prepare(self, rows: list[tuple]) -> bytes:
        """COPY text for rows (runs in a worker): tab-separated, \\N for nothing, backslashes escaped."""
        tail = f"\t{_copy_text(self.source)}\t{self.now}\n"
        return "".join("\t".join(_copy_text(v) for v in row[1:]) + tail for row in rows).encode()

    def accept(self, payload: bytes) -> None:
        import psycopg

        if payload:
            try:
                self.copy.write(payload)
            except psycopg.errors.UniqueViolation:
                raise DuplicateInFile() from None
            self.rows += payload.count(b"\n")

    def finish(self, connection, source: str, now) -> int:
        import psycopg

        try:
            self._copy_context.__exit__(None, None, None)
            self.connection.commit()
        except psycopg.errors.UniqueViolation:
            raise DuplicateInFile() from None
        return self.rows

    def discard(self, connection) -> None:
        import contextlib

        with contextlib.suppress(Exception):
            self._copy_context.__exit__(RuntimeError, RuntimeError("discarded"), None)
        with contextlib.suppress(Exception):
            self.connection.rollback()


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def open_loader(dialect: str, *, connection, folder: Path, url: str, source: str, now, direct_ok: bool = True):
    """The way in for this import: DirectCopy for a first load on PostgreSQL, else Staging."""
    if dialect == "postgresql" and direct_ok:
        cursor = connection.cursor()
        cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM reference_products)")
        if cursor.fetchone()[0]:
            return DirectCopy(connection, source, now)
        connection.rollback()
    return Staging.create(dialect, folder=folder, url=url, connection=connection)


# One staging file (and connection) per process, opened on first use.
_sqlite: dict = {}


def _sqlite_file(folder: str) -> sqlite3.Connection:
    key = (os.getpid(), folder)
    conn = _sqlite.get(key)
    if conn is None:
        _close_sqlite_file()
        conn = sqlite3.connect(Path(folder) / f"stage-{os.getpid()}.db")
        # A throwaway file: no journal, no fsync; the real table is written in one transaction.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute(f"CREATE TABLE IF NOT EXISTS stage {_CREATE}")
        _sqlite.clear()
        _sqlite[key] = conn
    return conn


def _close_sqlite_file() -> None:
    for key, conn in list(_sqlite.items()):
        if key[0] == os.getpid():
            conn.close()
    _sqlite.clear()


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


_pg: dict = {}


def _pg_connection(url: str):
    import psycopg

    key = (os.getpid(), url)
    conn = _pg.get(key)
    if conn is None or conn.closed:
        _pg.clear()  # a forked process must not use its parent's connection
        conn = _pg[key] = psycopg.connect(url, autocommit=False)
    return conn


def close_connections() -> None:
    """Close this process's staging connections (the import's own process, when it is done)."""
    _close_sqlite_file()
    for key, conn in list(_pg.items()):
        if key[0] == os.getpid():
            conn.close()
    _pg.clear()
