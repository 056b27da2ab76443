"""Rows of the batches domain for the cross-organisation route walk."""
from __future__ import annotations

from app.batches.models import Batch, BatchRow, BatchStatus, SavedMapping
from app.core import storage
from app.extensions import db
from tests.tenancy_rows import factory


@factory
def batch_rows(org, user) -> dict:
    stored = storage.save_bytes(b"title\nA\n", ".csv")
    batch = Batch(organisation_id=org.id, created_by_id=user.id, filename="theirs.csv", stored_sha256=stored.sha256,
                  stored_suffix=".csv", size_bytes=stored.size, format={}, mapping={"title": "title"},
                  status=BatchStatus.COMPLETED, total_rows=1, processed_rows=1, successful_rows=1, failed_rows=0,
                  max_concurrent_jobs=1, chunk_size=10)
    db.session.add(batch)
    db.session.flush()
    image = storage.save_bytes(b"\x89PNG\r\n\x1a\nnot really", ".png")
    row = BatchRow(organisation_id=org.id, batch_id=batch.id, row_number=2, data={"title": "A"}, status="completed",
                   retry_count=0, results={"images": {"lifestyle_emotional": {"sha256": image.sha256}}})
    mapping = SavedMapping(organisation_id=org.id, name="theirs", mapping={"title": "title"})
    db.session.add_all([row, mapping])
    db.session.commit()
    return {"batch_id": batch.id, "row_id": row.id, "style": "lifestyle_emotional", "mapping_id": mapping.id}
