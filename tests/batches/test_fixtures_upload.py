"""Every awkward CSV fixture through the upload flow: it imports and runs, or is refused with a reason."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.batches.models import Batch, BatchRow, BatchStatus
from app.batches.services import batch_preview
from app.extensions import db
from tests.batches.helpers import batch_id_from, upload

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "csv_edge"
ALL = sorted(p.name for p in FIXTURES.iterdir())

# file -> (title column, rows completed, rows failed with their row numbers) or the refusal text.
REFUSED_AT_UPLOAD = {"null_byte.csv": "NUL bytes at byte 6"}
REFUSED_AT_MAPPING = {
    "test_empty_columns_long_row.csv": "no product rows",
    "test_empty_columns_short_row.csv": "no product rows",
}
IMPORTS = {
    "bad.csv": ("column_b", 1, [2, 3]),
    "bad_skip_lines.csv": ("column_b", 1, [5, 6]),
    "blanks.csv": ("a", 0, [2]),
    "dummy.tsv": ("a", 1, []),
    "mac_newlines.csv": ("a", 2, []),
    "sniff_limit.csv": ("a", 1, []),
    "test_header_newline.csv": ("b", 1, []),
    "test_latin1.csv": ("a", 2, []),
    "test_locale.csv": ("a", 1, []),
    "test_no_leading_zeroes.csv": ("a", 1, []),
    "test_skip_lines.csv": ("a", 1, []),
    "test_utf16_big.csv": ("a", 2, []),
    "test_utf16_little.csv": ("a", 2, []),
    "test_utf8.csv": ("foo", 2, []),
    "test_utf8_bom.csv": ("foo", 2, []),
}


def test_every_fixture_has_an_expected_outcome():
    assert sorted({**REFUSED_AT_UPLOAD, **REFUSED_AT_MAPPING, **IMPORTS}) == ALL


@pytest.mark.parametrize("name", ALL)
def test_fixture_through_the_upload_flow(name, manager_client, run_jobs):
    response = upload(manager_client, (FIXTURES / name).read_bytes(), name)
    if name in REFUSED_AT_UPLOAD:
        assert response.status_code == 422
        text = response.get_data(as_text=True)
        assert REFUSED_AT_UPLOAD[name] in text and "re-export it as CSV UTF-8" in text
        assert db.session.scalar(select(Batch.id)) is None
        return
    batch_id = batch_id_from(response)
    batch = db.session.get(Batch, batch_id)
    header = batch_preview(batch=batch).header
    title = IMPORTS[name][0] if name in IMPORTS else header[0]
    response = manager_client.post(f"/batches/{batch_id}/mapping", data={"field_title": title})
    if name in REFUSED_AT_MAPPING:
        assert response.status_code == 422
        assert REFUSED_AT_MAPPING[name] in response.get_data(as_text=True)
        assert "Add one row per product" in response.get_data(as_text=True)
        return
    assert response.status_code == 200, response.get_data(as_text=True)[:600]
    _, completed, failed = IMPORTS[name]
    page = response.get_data(as_text=True)
    for number in failed:
        assert f"<td>{number}</td>" in page  # reported with its row number before anything runs
    assert manager_client.post(f"/batches/{batch_id}/start").status_code == 302
    run_jobs()
    db.session.expire_all()
    batch = db.session.get(Batch, batch_id)
    assert (batch.successful_rows, batch.failed_rows) == (completed, len(failed))
    assert batch.status == (BatchStatus.COMPLETED_WITH_ERRORS if failed else BatchStatus.COMPLETED)
    rows = db.session.scalars(select(BatchRow).order_by(BatchRow.row_number)).all()
    assert sorted(r.row_number for r in rows if r.status == "failed") == failed
    assert all(r.status == "completed" for r in rows if r.row_number not in failed)


@pytest.mark.parametrize(("data", "message"), [
    ((",".join(f"col{i}" for i in range(20_000)) + "\n" + "1," * 19_999 + "1\n").encode(),
     "The file has 20,000 columns (row 1); at most 500 can be read."),
    (bytes((i * 7919) % 255 + 1 for i in range(1_000_000)), "does not look like text"),
    (b"PK\x03\x04" + bytes(2000), "The file is a ZIP archive (an Excel .xlsx or OpenDocument .ods workbook is one)"),
    (b"title,mpn\nShirt,1\n" + b"x" * 5_000_000, "Row 3: a line is longer than 2,097,152 characters"),
], ids=["20000-columns", "binary", "xlsx", "no-line-break"])
def test_unreadable_uploads_are_refused_within_a_second(manager_client, data, message):
    started = time.process_time()
    response = upload(manager_client, data, "big.csv")
    assert time.process_time() - started < 4  # 44 s for the 20,000 columns before the cap
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).replace("&#34;", '"')
    assert db.session.scalar(select(Batch.id)) is None
