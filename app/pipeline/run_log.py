"""The pipeline's log lines as the runner writes them: one INSERT for all the lines of a phase's finish.

A line is shown on the product's page and announced to it (LOG_EVENT) once its transaction commits.
"""
from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy import insert

from app.core.events import publish_after_commit
from app.core.models import utcnow
from app.extensions import db
from app.pipeline.models import LogLevel, PipelineLog, Product

LOG_EVENT = "pipeline-log"

# Inside a phase's finish, log lines wait here and are written by one INSERT before it commits (the
# phase's own, its outcome, the next phase's start): added to the session one by one, each was a
# statement of its own.
log_batch: ContextVar[list[dict] | None] = ContextVar("pipeline_log_batch", default=None)


def log_row(org_id: int, product_id: int, phase: str | None, level: str, message: str, details: dict | None) -> dict:
    return {"organisation_id": org_id, "product_id": product_id, "phase": phase, "level": LogLevel(level),
            "message": message, "details": jsonable(details) or None, "created_at": utcnow()}


def write_log_rows(rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(PipelineLog.__table__), rows)  # Core: the ORM's bulk path costs more than the INSERT
        rows.clear()


def log_in_session(product: Product, phase: str | None, level: str, message: str, details: dict | None) -> None:
    row = log_row(product.organisation_id, product.id, phase, level, message, details)
    batch = log_batch.get()
    if batch is not None:
        batch.append(row)
    else:
        write_log_rows([row])
    publish_after_commit(product.organisation_id, LOG_EVENT, {"product_id": product.id})


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
