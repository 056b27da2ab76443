"""Shared steps of the batch tests: upload a CSV through the pages, map it, start it."""
from __future__ import annotations

import io
import re

from app.batches.models import Batch
from app.extensions import db

PRODUCTS_CSV = (
    "Product Name,MPN,Country of origin,Category,Size,Description,Supplier note\n"
    "Gold chain,GC-001,Poland,Necklace,45 cm,Gold-plated curb chain with 3 mm links,keep dry\n"
    "Silver hoop earrings,SH-002,Italy,Earrings,20 mm,Sterling silver hoops polished by hand,\n"
    "=HYPERLINK(\"http://x\"),EV-003,Spain,Bracelet,18 cm,A bracelet whose title looks like a formula,\n"
)


def products_csv(rows: int) -> bytes:
    lines = ["Product Name,MPN,Country of origin,Category,Size,Description"]
    for i in range(1, rows + 1):
        lines.append(f"Chain {i},MPN-{i:05d},Poland,Necklace,{40 + i % 10} cm,Gold-plated chain number {i}")
    return ("\n".join(lines) + "\n").encode()


def upload(client, data: bytes, name: str = "products.csv"):
    return client.post("/batches/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def batch_id_from(response) -> int:
    match = re.search(r"/batches/(\d+)/mapping", response.headers.get("Location", ""))
    assert match, response.get_data(as_text=True)[:800]
    return int(match.group(1))


def upload_and_start(client, data: bytes, mapping: dict | None = None, jobs: int | None = None) -> Batch:
    response = upload(client, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    batch_id = batch_id_from(response)
    batch = db.session.get(Batch, batch_id)
    chosen = mapping or batch.mapping
    form = {f"field_{k}": v for k, v in chosen.items()}
    response = client.post(f"/batches/{batch_id}/mapping", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    response = client.post(f"/batches/{batch_id}/start", data={"max_concurrent_jobs": str(jobs or 2)})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    db.session.expire_all()
    return db.session.get(Batch, batch_id)


def make_batch(org, user, rows: int, *, status=None, max_jobs: int = 8, chunk: int = 10) -> Batch:
    """A batch with `rows` pending rows written straight to the database (no file needed)."""
    from sqlalchemy import insert

    from app.batches.models import BatchRow, BatchStatus
    from app.core.models import utcnow

    batch = Batch(organisation_id=org.id, created_by_id=user.id, filename="direct.csv", stored_sha256="0" * 64,
                  stored_suffix=".csv", size_bytes=0, format={}, mapping={"title": "title", "mpn": "mpn"},
                  status=status or BatchStatus.PROCESSING, total_rows=rows, processed_rows=0, successful_rows=0,
                  failed_rows=0, max_concurrent_jobs=max_jobs, chunk_size=chunk, started_at=utcnow(), queued_at=utcnow())
    db.session.add(batch)
    db.session.flush()
    db.session.execute(insert(BatchRow), [
        {"organisation_id": org.id, "batch_id": batch.id, "row_number": i + 2, "status": "pending", "retry_count": 0,
         "data": {"title": f"Chain {i}", "mpn": f"M{i:05d}"}} for i in range(rows)])
    db.session.commit()
    return batch
