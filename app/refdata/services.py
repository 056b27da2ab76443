"""Loading reference product files: all or nothing, in bulk, with counts and refused lines.

An import reads the file once, streaming, into a temporary staging table (outside the main
database's write lock on SQLite), then merges the staged rows into `reference_products` in one
short transaction: a GTIN already there is updated in place, a new one is added. If the file
cannot be read to its end, or (without `skip_invalid`) any line is refused, nothing is merged.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.models import utcnow
from app.extensions import db
from app.refdata.reader import ReferenceFileError, ReferenceRow, Refused, open_reference_file

BATCH = 5000
MAX_REFUSED_KEPT = 100_000  # line numbers kept for the report; beyond that only counted
_STAGE = "reference_stage"
_COLUMNS = ("gtin", "name", "brand", "brand_key", "quantity", "categories", "image_url")


@dataclass
class ImportReport:
    """What an import did: rows read, added, updated, refused (with line numbers), or why not."""

    source: str
    read: int = 0
    added: int = 0
    updated: int = 0
    refused: list[Refused] = field(default_factory=list)
    refused_count: int = 0
    imported: bool = False
    error: str | None = None

    @property
    def valid(self) -> int:
        return self.read - self.refused_count


def reference_import(*, path: str | Path, source: str | None = None, skip_invalid: bool = False,
                     on_progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Import a reference file (see app.refdata.reader for formats); all or nothing."""
    path = Path(path)
    report = ImportReport(source=(source or path.name)[:200])
    try:
        rows, progress = open_reference_file(path)
    except OSError as exc:
        report.error = f"cannot open the file: {exc.strerror or exc}"
        return report
    connection = db.engine.raw_connection()
    stage = _Stage(connection)
    try:
        try:
            _read_into(stage, rows, report, progress, on_progress)
        except ReferenceFileError as exc:
            report.error = str(exc)
            return report
        if report.refused_count and not skip_invalid:
            report.error = (f"{report.refused_count} line(s) refused: nothing was imported (fix them, or import "
                            "only the valid lines with --skip-invalid)")
            return report
        report.added = stage.merge(report.source)
        report.updated = report.valid - report.added  # a GTIN seen twice in the file counts as updated too
        report.imported = True
        return report
    finally:
        stage.discard()
        connection.close()


def _read_into(stage: _Stage, rows, report: ImportReport, progress, on_progress) -> None:
    batch: list[tuple] = []
    for item in rows:
        report.read += 1
        if isinstance(item, Refused):
            report.refused_count += 1
            if len(report.refused) < MAX_REFUSED_KEPT:
                report.refused.append(item)
        else:
            batch.append(_values(item))
        if len(batch) >= BATCH:
            stage.add(batch)
            batch = []
            if on_progress is not None:
                on_progress(progress.done, progress.total)
    if batch:
        stage.add(batch)
    if on_progress is not None:
        on_progress(progress.total, progress.total)


def _values(row: ReferenceRow) -> tuple:
    return (row.line, row.gtin, row.name, row.brand, row.brand_key, row.quantity, row.categories, row.image_url)


class _Stage:
    """A temporary table on the import's own connection, merged into the real one at the end."""

    def __init__(self, connection):
        self.connection = connection
        self.postgres = db.engine.dialect.name == "postgresql"
        cursor = connection.cursor()
        cursor.execute(f"DROP TABLE IF EXISTS {'' if self.postgres else 'temp.'}{_STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE} (seq INTEGER, gtin VARCHAR(14), name VARCHAR(300), brand VARCHAR(200), "
            "brand_key VARCHAR(120), quantity VARCHAR(120), categories TEXT, image_url VARCHAR(500))")
        connection.commit()
        if not self.postgres:
            cursor.execute("BEGIN")  # one transaction for all staged rows: temp pages only, no main-file lock

    def add(self, batch: list[tuple]) -> None:
        cursor = self.connection.cursor()
        if self.postgres:
            with cursor.copy(f"COPY {_STAGE} (seq, {', '.join(_COLUMNS)}) FROM STDIN") as copy:
                for values in batch:
                    copy.write_row(values)
        else:
            cursor.executemany(f"INSERT INTO temp.{_STAGE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)

    def discard(self) -> None:
        """End whatever transaction is open and drop the staging table."""
        try:
            self.connection.rollback()
            cursor = self.connection.cursor()
            cursor.execute(f"DROP TABLE IF EXISTS {'' if self.postgres else 'temp.'}{_STAGE}")
            self.connection.commit()
        except Exception:  # noqa: BLE001 - the connection is closed next; a temp table dies with it
            pass

    def merge(self, source: str) -> int:
        """Upsert every staged row (the last line wins for a GTIN seen twice); returns how many are new."""
        cursor = self.connection.cursor()
        now = utcnow().replace(tzinfo=None)
        columns = ", ".join(_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in (*_COLUMNS[1:], "source", "fetched_at"))
        if self.postgres:
            self.connection.commit()
            cursor.execute("SELECT count(*) FROM reference_products")
            before = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO reference_products ({columns}, source, fetched_at) "
                f"SELECT DISTINCT ON (gtin) {columns}, %s, %s FROM {_STAGE} ORDER BY gtin, seq DESC "
                f"ON CONFLICT (gtin) DO UPDATE SET {updates}", (source, now))
        else:
            cursor.execute("COMMIT")
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("SELECT count(*) FROM reference_products")
            before = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO reference_products ({columns}, source, fetched_at) "
                f"SELECT {columns}, ?, ? FROM temp.{_STAGE} WHERE true ORDER BY seq "
                f"ON CONFLICT (gtin) DO UPDATE SET {updates}", (source, now))
        cursor.execute("SELECT count(*) FROM reference_products")
        after = cursor.fetchone()[0]
        if self.postgres:
            self.connection.commit()
        else:
            cursor.execute("COMMIT")
        return after - before
