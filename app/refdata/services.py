"""Loading reference product files: all or nothing, in bulk, with counts and refused lines.

An import reads the file once, streaming, in chunks of lines; each chunk is checked and staged
by a worker process (one per core, for big files) into a staging area outside the main database
(app.refdata.staging), so nothing holds SQLite's write lock while the file is read. Then the
staged rows are merged into `reference_products` in one transaction: a GTIN already there is
updated in place, a new one is added. If the file cannot be read to its end, or (without
`skip_invalid`) any line is refused, nothing is merged.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from app.core.models import utcnow
from app.extensions import db
from app.refdata.reader import Chunk, ReferenceFileError, Refused, open_reference_chunks, parse_chunk
from app.refdata.staging import DuplicateInFile, close_connections, open_loader

PARSE_WORKERS = 2
IN_FLIGHT = 2  # parsed chunks waiting per worker: bounds memory whatever the file size
PARALLEL_FROM_BYTES = 8 * 1024 * 1024  # below this, starting worker processes costs more than it saves
MAX_REFUSED_KEPT = 100_000  # line numbers kept for the report; beyond that only counted


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
    report = _import(path, source, skip_invalid, on_progress, direct_ok=True)
    if report.error == _DUPLICATES:  # a first load that named a GTIN twice: again, through staging
        report = _import(path, source, skip_invalid, on_progress, direct_ok=False)
    return report


_DUPLICATES = "the file names a GTIN twice"


def _import(path: Path, source: str | None, skip_invalid: bool, on_progress, *, direct_ok: bool) -> ImportReport:
    report = ImportReport(source=(source or path.name)[:200])
    try:
        chunks, progress = open_reference_chunks(path)
    except OSError as exc:
        report.error = f"cannot open the file: {exc.strerror or exc}"
        return report
    connection = db.engine.raw_connection()
    folder = Path(tempfile.mkdtemp(prefix="refdata-stage-", dir=current_app.config["INSTANCE_DIR"]))
    loader = open_loader(db.engine.dialect.name, connection=connection, folder=folder, source=report.source,
                         url=db.engine.url.render_as_string(hide_password=False), now=utcnow().replace(tzinfo=None),
                         direct_ok=direct_ok)
    try:
        try:
            _read_into(_prepared(chunks, loader, parallel=progress.total >= PARALLEL_FROM_BYTES), loader, report,
                       progress, on_progress)
        except ReferenceFileError as exc:
            report.error = str(exc)
            return report
        if report.refused_count and not skip_invalid:
            report.error = (f"{report.refused_count} line(s) refused: nothing was imported (fix them, or import "
                            "only the valid lines with --skip-invalid)")
            return report
        report.added = loader.finish(connection, report.source, utcnow().replace(tzinfo=None))
        report.updated = report.valid - report.added  # a GTIN seen twice in the file counts as updated too
        report.imported = True
        return report
    except DuplicateInFile:
        report.error = _DUPLICATES
        return report
    finally:
        close_connections()
        loader.discard(connection)
        connection.close()
        shutil.rmtree(folder, ignore_errors=True)


_loader = None  # the running import's loader, inherited by its forked workers


def prepare_chunk(chunk: Chunk) -> tuple[int, list[Refused], object]:
    """Parse one chunk and prepare its good rows (in whichever process runs it):
    (rows read, refusals, what the import's process must still take in)."""
    rows = parse_chunk(chunk)
    good = [r for r in rows if not isinstance(r, Refused)]
    return len(rows), [r for r in rows if isinstance(r, Refused)], _loader.prepare(good)


def _prepared(chunks, loader, *, parallel: bool):
    """prepare_chunk over every chunk, in order; big files by worker processes (one per core), with
    at most IN_FLIGHT chunks queued per worker so memory stays flat whatever the file size."""
    global _loader
    _loader = loader
    workers = min(PARSE_WORKERS, os.cpu_count() or 1)
    try:
        if not parallel or workers < 2:
            yield from (prepare_chunk(chunk) for chunk in chunks)
            return
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending: deque = deque()
            for chunk in chunks:
                pending.append(pool.apply_async(prepare_chunk, (chunk,)))
                if len(pending) >= IN_FLIGHT * workers:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()
    finally:
        _loader = None


def _read_into(results, loader, report: ImportReport, progress, on_progress) -> None:
    for counted, refused, payload in results:
        report.read += counted
        report.refused_count += len(refused)
        room = MAX_REFUSED_KEPT - len(report.refused)
        if room > 0:
            report.refused.extend(refused[:room])
        loader.accept(payload)
        if on_progress is not None:
            on_progress(progress.done, progress.total)
    if on_progress is not None:
        on_progress(progress.total, progress.total)
