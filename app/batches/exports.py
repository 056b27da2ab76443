"""Downloads of a batch: results and error report as CSV, streamed, safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator

from flask import Response, send_file
from sqlalchemy import select

from app.batches.generate import STYLES
from app.batches.models import Batch, BatchRow, RowStatus
from app.extensions import db
from app.formats.spreadsheet import neutralise

safe_cell = neutralise  # the one formula-safety rule of every export


def _csv_lines(rows: Iterable[list]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()


def _rows(batch: Batch, *statuses: str):
    query = select(BatchRow).where(BatchRow.batch_id == batch.id).order_by(BatchRow.row_number)
    if statuses:
        query = query.where(BatchRow.status.in_(statuses))
    return db.session.scalars(query.execution_options(yield_per=1000))


def results_csv(batch: Batch) -> Iterator[str]:
    """One line per row: status, mapped fields, trigger, prompts, images, tags, generators, error."""
    fields = [f for f in ("title", "country", "product_type", "size", "mpn", "description") if batch.mapping.get(f)]
    # The file's columns no field was mapped to travel along, under their own names, as the mapping page says.
    first = db.session.scalar(select(BatchRow.data).where(BatchRow.batch_id == batch.id)
                              .order_by(BatchRow.row_number).limit(1)) or {}
    mapped = set(batch.mapping.values())
    unmapped = [column for column in first if column not in mapped]
    header = ["row_number", "status", *fields, *unmapped, "trigger_text"]
    for style in STYLES:
        header += [f"prompt_{style}", f"prompt_{style}_generator", f"image_{style}_sha256", f"image_{style}_generator"]
    header += ["tags", "tags_generator", "worker", "retries", "duration_ms", "error"]

    def lines():
        yield header
        for row in _rows(batch):
            res = row.results or {}
            prompts, images = res.get("prompts") or {}, res.get("images") or {}
            line = [row.row_number, row.status, *[row.data.get(batch.mapping[f], "") for f in fields],
                    *[row.data.get(column, "") for column in unmapped], res.get("trigger", "")]
            for style in STYLES:
                p, i = prompts.get(style) or {}, images.get(style) or {}
                note = f"{i.get('generator')} ({i.get('note')})" if i.get("note") else i.get("generator", "")
                line += [p.get("text", ""), p.get("generator", ""), i.get("sha256", ""), note]
            line += ["; ".join(res.get("tags") or []), res.get("tags_generator", ""), res.get("worker", ""),
                     row.retry_count, row.duration_ms or "", row.error or ""]
            yield line

    return _csv_lines(lines())


def errors_csv(batch: Batch) -> Iterator[str]:
    """The error report: row number, column, message (problems found in the file and failed rows)."""

    def lines():
        yield ["row_number", "column", "message"]
        for row in _rows(batch, RowStatus.FAILED.value):
            yield [row.row_number, row.error_column or "", row.error or ""]

    return _csv_lines(lines())


def download(lines: Iterable[str], name: str) -> Response:
    """A CSV attachment of `lines`, for the batch pages and the API alike."""
    # Written to a spooled file first: the download then needs no database session while it streams.
    # Werkzeug adds "; charset=utf-8" to text types itself; naming it here too would send it twice.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    for text in lines:
        spool.write(text.encode("utf-8"))
    spool.seek(0)
    return send_file(spool, mimetype="text/csv", as_attachment=True, download_name=name, max_age=0)
