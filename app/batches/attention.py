"""The batches' attention items: batches that ended with failed rows, or failed as a whole."""
from __future__ import annotations

from sqlalchemy import select

from app.batches.models import Batch
from app.batches.processing import EVENT
from app.batches.statuses import BatchStatus
from app.core.attention import Item, register_query_source

NEEDS_A_PERSON = (BatchStatus.COMPLETED_WITH_ERRORS, BatchStatus.FAILED)


def _failed(org_id: int):
    return select(Batch).where(Batch.organisation_id == org_id, Batch.status.in_(NEEDS_A_PERSON))


def _item(batch: Batch) -> Item:
    if batch.status == BatchStatus.FAILED:
        why, level = f"The batch failed: {batch.error or 'see its log'}", "error"
    else:
        why, level = (f"{batch.failed_rows} of {batch.total_rows} rows failed: retry them or download the errors",
                      "warning")
    return Item(kind="batch_failed", subject=str(batch.id), title=f"Batch {batch.filename}", why=why,
                endpoint="batches.show", args={"batch_id": batch.id}, since=batch.finished_at or batch.created_at,
                level=level)


# Progress events come often while a batch runs; counts re-fetch once they settle (see badge_events).
register_query_source("batch_failed", label="Batches with failed rows", roles=("manager",), rows=_failed,
                      id_column=Batch.id, order_by=(Batch.finished_at, Batch.id), item=_item,
                      events=(EVENT,), order=30)
