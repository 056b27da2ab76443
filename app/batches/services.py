"""CSV batch actions: upload, format and mapping, start, cancel, resume, retry failed rows,
saved mappings and prompt templates. Each validates, writes in one transaction and commits once."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

from flask import current_app
from sqlalchemy import delete, func, select, update

from app.batches import processing as proc
from app.batches.csv_intake import CsvFormat, CsvRejected, _missing_value, iter_rows, preview, sniff, suggest_mapping, validate
from app.batches.generate import DEFAULT_TEMPLATES, STYLES, TemplateInvalid, check_template
from app.batches.models import Batch, BatchRow, BatchStatus, PromptTemplate, RowStatus, SavedMapping
from app.core import audit, storage
from app.core.database import outside_write_lock
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import User, utcnow
from app.core.tenancy import get_scoped
from app.extensions import db

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MAX_ROWS = 200_000
REQUIRED_FIELDS = ("title",)
INSERT_CHUNK = 5000
MAX_STORED_PROBLEMS = 500


class _Limited:
    """A read-only stream that refuses to go past `limit` bytes."""

    def __init__(self, stream, limit: int):
        self.stream, self.limit, self.read_bytes = stream, limit, 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.stream.read(n)
        self.read_bytes += len(chunk)
        if self.read_bytes > self.limit:
            raise InvalidInput(f"The file is larger than {self.limit // (1024 * 1024)} MB. Split it into smaller files.")
        return chunk


def _max_bytes() -> int:
    return int(current_app.config.get("BATCH_MAX_UPLOAD_BYTES") or MAX_UPLOAD_BYTES)


def _max_rows() -> int:
    return int(current_app.config.get("BATCH_MAX_ROWS") or MAX_ROWS)


def format_from(batch: Batch) -> CsvFormat:
    """The CsvFormat stored on the batch."""
    data = dict(batch.format)
    data["notes"] = tuple(data.get("notes") or ())
    return CsvFormat(**data)


def _format_dict(fmt: CsvFormat) -> dict:
    data = dataclasses.asdict(fmt)
    data["notes"] = list(fmt.notes)
    return data


def stored_path(batch: Batch):
    return storage.open_path(batch.stored_sha256, batch.stored_suffix)


def batch_get(*, org_id: int, batch_id: int) -> Batch:
    """One batch of the organisation, else NotFound."""
    batch = get_scoped(Batch, batch_id, org_id)
    if batch is None:
        raise NotFound("There is no such batch in your organisation.")
    return batch


def batch_upload(*, org_id: int, by: User, stream, filename: str) -> Batch:
    """Store an uploaded CSV (streamed), detect its format and suggest a column mapping."""
    name = (filename or "").strip() or "upload.csv"
    with outside_write_lock():  # storing and reading the file take seconds; other writers go on
        stored = storage.save_stream(_Limited(stream, _max_bytes()), ".csv")
        try:
            fmt = sniff(stored.path)
            pre = preview(stored.path, fmt, n=5)
        except CsvRejected as exc:
            storage.discard(stored)  # a refused upload leaves nothing behind
            raise InvalidInput(f"{name}: {exc.message}") from None
        mapping = suggest_mapping(pre.header)
    batch = Batch(organisation_id=org_id, created_by_id=by.id, filename=name[:255], stored_sha256=stored.sha256,
                  stored_suffix=".csv", size_bytes=stored.size, format=_format_dict(fmt),
                  mapping=mapping, status=BatchStatus.UPLOADED,
                  total_rows=pre.total_rows_estimate,
                  max_concurrent_jobs=proc.setting("BATCH_MAX_CONCURRENT_JOBS", 2),
                  chunk_size=proc.setting("BATCH_CHUNK_SIZE", 20))
    db.session.add(batch)
    db.session.flush()
    proc.add_log(batch, "info", "upload", f"Uploaded {name} ({stored.size} bytes)",
                 {"sha256": stored.sha256, "encoding": fmt.encoding, "delimiter": fmt.delimiter})
    audit.record(org_id=org_id, actor_id=by.id, action="batch.upload", object_type="batch", object_id=batch.id,
                 after={"filename": name, "size": stored.size})
    db.session.commit()
    return batch


def _editable(batch: Batch) -> None:
    if batch.status != BatchStatus.UPLOADED:
        raise Conflict(f"This batch is {batch.status.label}; its format and mapping can no longer change.")


def batch_format_set(*, org_id: int, batch_id: int, encoding: str | None, delimiter: str | None,
                     quotechar: str | None, skip_lines: int | None, has_header: bool) -> Batch:
    """Re-read the file with the user's encoding/dialect choices (empty = detect)."""
    batch = batch_get(org_id=org_id, batch_id=batch_id)
    _editable(batch)
    path = stored_path(batch)
    with outside_write_lock():
        try:
            fmt = sniff(path, encoding=encoding or None, delimiter=delimiter or None,
                        quotechar=quotechar, skip_lines=skip_lines, has_header=has_header)
            pre = preview(path, fmt, n=5)
        except CsvRejected as exc:
            raise InvalidInput(exc.message) from None
    batch = batch_get(org_id=org_id, batch_id=batch_id)
    _editable(batch)  # again: it may have been started while the file was read
    batch.format = _format_dict(fmt)
    batch.mapping = {k: v for k, v in (batch.mapping or {}).items() if v in pre.header} or suggest_mapping(pre.header)
    batch.validation = None
    batch.total_rows = pre.total_rows_estimate
    proc.add_log(batch, "info", "format", f"Format set: {fmt.encoding_label}, {fmt.delimiter_label}",
                 {"encoding": fmt.encoding, "delimiter": fmt.delimiter, "skip_lines": fmt.skip_lines,
                  "has_header": fmt.has_header})
    db.session.commit()
    return batch


def batch_preview(*, batch: Batch, n: int = 10):
    """Header, first rows and problems of the batch's file as currently formatted."""
    try:
        return preview(stored_path(batch), format_from(batch), n=n)
    except CsvRejected as exc:
        raise InvalidInput(exc.message) from None


def batch_mapping_set(*, org_id: int, batch_id: int, mapping: dict[str, str], by: User,
                      save_as: str | None = None) -> Batch:
    """Check every row against the mapping; store mapping and the report (problems with row numbers)."""
    batch = batch_get(org_id=org_id, batch_id=batch_id)
    _editable(batch)
    mapping = {k: v for k, v in mapping.items() if v}
    try:
        report = validate(stored_path(batch), format_from(batch), mapping, REQUIRED_FIELDS)
    except CsvRejected as exc:
        raise InvalidInput(exc.message) from None
    if report.total_rows > _max_rows():
        raise InvalidInput(f"The file has {report.total_rows:,} product rows; the limit is {_max_rows():,}. "
                           "Split it into smaller files.")
    batch.mapping = mapping
    batch.total_rows = report.total_rows
    batch.validation = {
        "total_rows": report.total_rows, "problem_count": report.problem_count,
        "rows_with_problems": report.rows_with_problems, "blank_rows": report.blank_rows,
        "truncated": report.truncated or len(report.problems) > MAX_STORED_PROBLEMS,
        "problems": [{"row": p.row_number, "column": p.column, "message": p.message, "severity": p.severity}
                     for p in report.problems[:MAX_STORED_PROBLEMS]],
        "mapping": mapping,
    }
    proc.add_log(batch, "warning" if report.problem_count else "info", "validate",
                 f"Checked {report.total_rows} row(s): {report.rows_with_problems} with problems",
                 {"problem_count": report.problem_count})
    if save_as and save_as.strip():
        mapping_save(org_id=org_id, name=save_as, mapping=mapping, by=by, commit=False)
    db.session.commit()
    return batch


def mapping_save(*, org_id: int, name: str, mapping: dict, by: User, commit: bool = True) -> SavedMapping:
    """Save (or replace) a named mapping for reuse on later uploads."""
    name = name.strip()[:120]
    if not name:
        raise InvalidInput("Give the mapping a name.", field="save_as")
    row = db.session.scalar(select(SavedMapping).where(SavedMapping.organisation_id == org_id, SavedMapping.name == name))
    if row is None:
        row = SavedMapping(organisation_id=org_id, name=name, mapping=mapping, created_by_id=by.id)
        db.session.add(row)
    else:
        row.mapping = mapping
    if commit:
        db.session.commit()
    return row


def mapping_delete(*, org_id: int, mapping_id: int) -> None:
    """Delete a saved mapping."""
    row = get_scoped(SavedMapping, mapping_id, org_id)
    if row is None:
        raise NotFound("There is no such saved mapping.")
    db.session.delete(row)
    db.session.commit()


def mappings_for(org_id: int) -> list[SavedMapping]:
    return list(db.session.scalars(select(SavedMapping).where(SavedMapping.organisation_id == org_id)
                                   .order_by(SavedMapping.name)))


# --- storing rows ----------------------------------------------------------------------------

def _row_values(batch: Batch, fmt: CsvFormat, mapping: dict, header: list[str]) -> Iterator[dict]:
    required = [(f, mapping[f]) for f in REQUIRED_FIELDS if mapping.get(f)]
    for number, row, problems in iter_rows(stored_path(batch), fmt):
        data = row if isinstance(row, dict) else dict(zip(header, row))
        values = {"organisation_id": batch.organisation_id, "batch_id": batch.id, "row_number": number,
                  "data": data, "status": RowStatus.PENDING.value, "retry_count": 0}
        errors = [(p.column, p.message) for p in problems if p.severity == "error"]
        for fld, column in required:
            why = _missing_value(data.get(column))
            if why is not None:
                errors.append((column, f"Row {number}: {fld.replace('_', ' ')} {why} (column '{column}')."))
        if errors:
            values.update(status=RowStatus.FAILED.value, error=" ".join(m for _, m in errors),
                          error_column=errors[0][0], error_kind="invalid")
        yield values


_ROW_COLUMNS = ("organisation_id", "batch_id", "row_number", "data", "status", "retry_count", "error",
                "error_column", "error_kind")


def _insert_rows(conn, rows: list[tuple]) -> None:
    """Bulk insert in the session's transaction: COPY on PostgreSQL, driver executemany elsewhere."""
    columns = ", ".join(_ROW_COLUMNS)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY batch_rows ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"INSERT INTO batch_rows ({columns}) VALUES ({', '.join([mark] * len(_ROW_COLUMNS))})", rows)


def rows_store(*, batch: Batch) -> tuple[int, int]:
    """Parse the file and insert its rows in bulk (in chunks, one transaction, no commit).

    Rows the file itself gets wrong are stored as failed with the reason. Returns (rows, invalid).
    """
    fmt = format_from(batch)
    header = preview(stored_path(batch), fmt, n=0).header if not fmt.has_header else []
    total = invalid = 0
    chunk: list[tuple] = []
    conn = db.session.connection()
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for v in _row_values(batch, fmt, batch.mapping, header):
        chunk.append((v["organisation_id"], v["batch_id"], v["row_number"], dumps(v["data"]), v["status"], 0,
                      v.get("error"), v.get("error_column"), v.get("error_kind")))
        if v["status"] == RowStatus.FAILED.value:
            invalid += 1
        if len(chunk) >= INSERT_CHUNK:
            _insert_rows(conn, chunk)
            total += len(chunk)
            chunk = []
    if chunk:
        _insert_rows(conn, chunk)
        total += len(chunk)
    return total, invalid


def batch_start(*, org_id: int, batch_id: int, by: User, max_concurrent_jobs: int | None = None) -> Batch:
    """Store every row and queue the batch (it runs when the user has a free slot)."""
    batch = batch_get(org_id=org_id, batch_id=batch_id)
    _editable(batch)
    if not batch.validation or batch.validation.get("mapping") != batch.mapping:
        raise InvalidInput("Check the column mapping first: every row is validated before the batch can start.")
    if max_concurrent_jobs is not None:
        if not 1 <= max_concurrent_jobs <= 8:
            raise InvalidInput("Concurrent jobs must be between 1 and 8.", field="max_concurrent_jobs")
        batch.max_concurrent_jobs = max_concurrent_jobs
    try:
        total, invalid = rows_store(batch=batch)
    except (CsvRejected, FileNotFoundError) as exc:
        db.session.rollback()
        raise InvalidInput(getattr(exc, "message", None) or "The uploaded file is no longer stored; upload it again.") from None
    if total == 0:
        db.session.rollback()
        raise InvalidInput("The file has no product rows to process.")
    now = utcnow()
    batch.total_rows, batch.processed_rows, batch.failed_rows, batch.successful_rows = total, invalid, invalid, 0
    batch.status, batch.queued_at = BatchStatus.QUEUED, now
    proc.add_log(batch, "info", "store", f"Stored {total} row(s); {invalid} refused because of problems in the file",
                 {"rows": total, "invalid": invalid})
    audit.record(org_id=org_id, actor_id=by.id, action="batch.start", object_type="batch", object_id=batch.id,
                 after={"rows": total})
    db.session.flush()
    if invalid == total:
        batch.status, batch.started_at = BatchStatus.PROCESSING, now
        db.session.commit()
        proc.batch_finish_if_done(batch_id=batch.id)
        return batch
    proc.promote_queued(user_id=batch.created_by_id)
    publish_after_commit(org_id, proc.EVENT, {"batch_id": batch.id, "status": batch.status.value})
    db.session.commit()
    return batch


def batch_cancel(*, org_id: int, batch_id: int, by: User) -> Batch:
    """Stop a batch: no new rows are claimed; rows being worked on finish."""
    batch = batch_get(org_id=org_id, batch_id=batch_id)
    if not batch.allows(BatchStatus.CANCELLED):
        raise Conflict(f"A {batch.status.label} batch cannot be cancelled.")
    was = batch.status
    batch.status, batch.finished_at, batch.rate_rows_per_min = BatchStatus.CANCELLED, utcnow(), None
    proc.add_log(batch, "info", "cancel", f"Cancelled by {by.display_name}", {"was": was.value})
    audit.record(org_id=org_id, actor_id=by.id, action="batch.cancel", object_type="batch", object_id=batch.id)
    if was == BatchStatus.PROCESSING:
        proc.promote_queued(user_id=batch.created_by_id)
    publish_after_commit(org_id, proc.EVENT, {"batch_id": batch.id, "status": batch.status.value})
    db.session.commit()
    return batch


def batch_discard(*, org_id: int, batch_id: int, by: User) -> str:
    """Delete a batch that was uploaded but never started (its file goes with the storage sweep). Commits."""
    batch = batch_get(org_id=org_id, batch_id=batch_id)
    if batch.status != BatchStatus.UPLOADED:
        raise Conflict(f"Only a batch that has not started can be discarded; this one is {batch.status.label}.")
    filename = batch.filename
    audit.record(org_id=org_id, actor_id=by.id, action="batch.discard", object_type="batch", object_id=batch.id,
                 before={"filename": filename, "size": batch.size_bytes})
    # Its log lines go with it (ON DELETE CASCADE); it has no rows before it starts.
    db.session.execute(delete(Batch).where(Batch.id == batch.id, Batch.status == BatchStatus.UPLOADED))
    publish_after_commit(org_id, proc.EVENT, {"batch_id": batch_id, "status": "discarded"})
    db.session.commit()
    return filename


def batch_resume(*, org_id: int, batch_id: int, by: User) -> Batch:
    """Queue a cancelled (or failed) batch again; it continues with its pending rows."""
    batch = batch_get(org_id=org_id, batch_id=batch_id)
    if batch.status not in (BatchStatus.CANCELLED, BatchStatus.FAILED):
        raise Conflict(f"A {batch.status.label} batch cannot be resumed.")
    if batch.queued_at is None:
        raise Conflict("This batch was cancelled before it started; upload the file again.")
    return _requeue(batch, by, "resume", f"Resumed by {by.display_name}")


def batch_retry_failed(*, org_id: int, batch_id: int, by: User) -> int:
    """Put failed rows (not those the file itself gets wrong) back to pending; returns how many."""
    batch = batch_get(org_id=org_id, batch_id=batch_id)
    if batch.status not in (BatchStatus.COMPLETED_WITH_ERRORS, BatchStatus.CANCELLED, BatchStatus.FAILED):
        raise Conflict(f"Failed rows of a {batch.status.label} batch cannot be retried now.")
    res = db.session.execute(
        update(BatchRow).where(BatchRow.batch_id == batch.id, BatchRow.status == RowStatus.FAILED.value,
                               BatchRow.error_kind != "invalid")
        .values(status=RowStatus.PENDING.value, retry_count=0, next_attempt_at=None, claimed_by=None,
                lease_expires_at=None, error=None, error_column=None, error_kind=None, finished_at=None),
        execution_options={"synchronize_session": False})
    count = res.rowcount
    if not count:
        db.session.rollback()
        raise InvalidInput("No failed row can be retried: the remaining errors are in the file itself. "
                           "Fix those rows and upload the file again.")
    batch.processed_rows -= count
    batch.failed_rows -= count
    _requeue(batch, by, "retry", f"{count} failed row(s) queued again by {by.display_name}", commit=False)
    db.session.commit()
    return count


def _requeue(batch: Batch, by: User, operation: str, message: str, commit: bool = True) -> Batch:
    batch.status, batch.queued_at, batch.finished_at = BatchStatus.QUEUED, utcnow(), None
    proc.add_log(batch, "info", operation, message)
    audit.record(org_id=batch.organisation_id, actor_id=by.id, action=f"batch.{operation}", object_type="batch",
                 object_id=batch.id)
    db.session.flush()
    proc.promote_queued(user_id=batch.created_by_id)
    publish_after_commit(batch.organisation_id, proc.EVENT, {"batch_id": batch.id, "status": batch.status.value})
    if commit:
        db.session.commit()
    return batch


# --- prompt templates ------------------------------------------------------------------------

def templates_for(org_id: int) -> dict[str, tuple[str, str]]:
    """{style: (template source, generator label)}: the organisation's, else the defaults."""
    rows = {t.style: t for t in db.session.scalars(select(PromptTemplate).where(PromptTemplate.organisation_id == org_id))}
    out = {}
    for style in STYLES:
        row = rows.get(style)
        out[style] = (row.template, f"template:{style}:v{row.version}") if row else \
            (DEFAULT_TEMPLATES[style], f"template:{style}:default")
    return out


def template_save(*, org_id: int, style: str, source: str, by: User) -> PromptTemplate:
    """Replace one style's prompt template after checking it renders in the sandbox."""
    if style not in STYLES:
        raise NotFound("There is no such prompt style.")
    source = (source or "").strip()
    if not source:
        raise InvalidInput("The template is empty.", field=style)
    try:
        check_template(source)
    except TemplateInvalid as exc:
        raise InvalidInput(str(exc), field=style) from None
    row = db.session.scalar(select(PromptTemplate).where(PromptTemplate.organisation_id == org_id,
                                                         PromptTemplate.style == style))
    if row is None:
        row = PromptTemplate(organisation_id=org_id, style=style, template=source, version=1, updated_by_id=by.id)
        db.session.add(row)
    elif row.template != source:
        row.template, row.version, row.updated_by_id, row.updated_at = source, row.version + 1, by.id, utcnow()
    audit.record(org_id=org_id, actor_id=by.id, action="batch.template", object_type="prompt_template",
                 object_id=style, after={"template": source})
    db.session.commit()
    return row


def running_summary(org_id: int) -> dict:
    """Running batches and their combined rows per minute (for the dashboard card)."""
    rows = db.session.execute(select(Batch.id, Batch.filename, Batch.processed_rows, Batch.total_rows,
                                     Batch.rate_rows_per_min)
                              .where(Batch.organisation_id == org_id, Batch.status == BatchStatus.PROCESSING)
                              .order_by(Batch.id)).all()
    queued = db.session.scalar(select(func.count()).select_from(Batch).where(
        Batch.organisation_id == org_id, Batch.status == BatchStatus.QUEUED)) or 0
    rate = sum(r.rate_rows_per_min or 0 for r in rows)
    return {"running": rows, "queued": queued, "rate": round(rate, 1) if rows else None}
