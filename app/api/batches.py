"""/api/v1/batches: upload a CSV, start it, follow its progress, read each row's result and the
error report. The same services and checks as the batch pages."""
from __future__ import annotations

from flask import request
from sqlalchemy import select

from app.api.endpoints import caller, listing, one, operation, org_id, status_of, uploaded_files
from app.api.http import json_response
from app.api.problems import ApiProblem
from app.api.schemas import (
    BatchOut,
    BatchPage,
    BatchQuery,
    BatchRowOut,
    BatchRowPage,
    BatchStartIn,
    BatchUploadIn,
    RowQuery,
)
from app.batches import exports
from app.batches import services as batches
from app.batches.models import Batch, BatchRow
from app.core.errors import DomainError
from app.core.tenancy import get_or_404

ONE = {"scope": "batches:read", "tag": "batches"}


def batch_out(batch: Batch) -> dict:
    validation = {k: v for k, v in (batch.validation or {}).items() if k != "mapping"} or None
    report = f"/api/v1/batches/{batch.id}/errors.csv" if batch.failed_rows else None
    return BatchOut(id=batch.id, filename=batch.filename, status=status_of(batch.status), total_rows=batch.total_rows,
                    processed_rows=batch.processed_rows, successful_rows=batch.successful_rows,
                    failed_rows=batch.failed_rows, percent=batch.percent, mapping=batch.mapping or {},
                    validation=validation, error=batch.error, error_report=report, created_at=batch.created_at,
                    started_at=batch.started_at, finished_at=batch.finished_at).model_dump(mode="json")


def row_out(row: BatchRow) -> dict:
    return BatchRowOut(id=row.id, row_number=row.row_number, status=status_of(row.status), data=row.data or {},
                       results=row.results, error=row.error, error_column=row.error_column,
                       retry_count=row.retry_count, duration_ms=row.duration_ms,
                       finished_at=row.finished_at).model_dump(mode="json")


def _field(name: str, exc: DomainError) -> ApiProblem:
    """A refusal of the batch service as problem details naming the field the client sent."""
    return ApiProblem(exc.status, exc.message, errors=[{"field": exc.field or name, "message": exc.message}])


@operation("GET", "/batches", scope="batches:read", tag="batches", query=BatchQuery, answer=BatchPage)
def batches_list():
    """CSV batches with their progress, newest first."""
    return listing(Batch, batch_out, status=Batch.status)


@operation("GET", "/batches/<int:batch_id>", answer=BatchOut, **ONE)
def batch_get(batch_id: int):
    """One batch: status, rows processed, succeeded and failed, the mapping and its check."""
    return one(Batch, batch_id, batch_out)


@operation("POST", "/batches", scope="batches:write", tag="batches", form=BatchUploadIn, answer=BatchOut,
           status=201, uploads=True)
def batch_upload():
    """Upload a CSV file (multipart/form-data, field `file`): its encoding and delimiter are
    detected and a column mapping is suggested. Nothing runs until the batch is started."""
    file = uploaded_files("file", "the CSV file")[0]
    try:
        batch = batches.batch_upload(org_id=org_id(), by=caller(), stream=file.stream, filename=file.filename or "")
    except DomainError as exc:
        raise _field("file", exc) from None
    return json_response(batch_out(batch), 201, {"Location": f"/api/v1/batches/{batch.id}"})


@operation("POST", "/batches/<int:batch_id>/start", scope="batches:write", tag="batches", json=BatchStartIn,
           answer=BatchOut, row=(Batch, "batch_id"))
def batch_start(batch_id: int):
    """Check every row against the mapping (the one sent, or the one suggested at upload) and queue
    the batch. Rows the file gets wrong are stored as failed with the reason; a mapping the file
    cannot satisfy is a 422 naming `mapping`, and nothing starts."""
    body = request.context.json or BatchStartIn()
    batch = get_or_404(Batch, batch_id, org_id())
    mapping = dict(body.mapping) if body.mapping is not None else dict(batch.mapping or {})
    if body.mapping is not None or (batch.validation or {}).get("mapping") != batch.mapping:
        try:
            batches.batch_mapping_set(org_id=org_id(), batch_id=batch_id, mapping=mapping, by=caller())
        except DomainError as exc:
            raise _field("mapping", exc) from None
    batch = batches.batch_start(org_id=org_id(), batch_id=batch_id, by=caller(),
                                max_concurrent_jobs=body.max_concurrent_jobs)
    return json_response(batch_out(batch))


@operation("GET", "/batches/<int:batch_id>/rows", query=RowQuery, answer=BatchRowPage, **ONE)
def batch_rows(batch_id: int):
    """The batch's rows in file order, each with its status, result or error; `status=failed` for the errors."""
    get_or_404(Batch, batch_id, org_id())
    rows = select(BatchRow).where(BatchRow.organisation_id == org_id(), BatchRow.batch_id == batch_id)
    return listing(BatchRow, row_out, base=rows, newest_first=False, status=BatchRow.status)


@operation("GET", "/batches/<int:batch_id>/errors.csv", answer=None, **ONE)
def batch_errors_csv(batch_id: int):
    """The error report as on the batch page: one CSV line per failed row (row number, column, message)."""
    batch = get_or_404(Batch, batch_id, org_id())
    response = exports.download(exports.errors_csv(batch), f"batch-{batch.id}-errors.csv")
    response.direct_passthrough = False  # spectree reads the answer back before it goes out
    return response
