"""Upload → mapping → start → workers → results, through the pages and a real worker."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from app.batches.models import Batch, BatchLog, BatchRow, BatchStatus, SavedMapping
from app.extensions import db
from tests.batches.helpers import PRODUCTS_CSV, batch_id_from, upload, upload_and_start


def test_upload_shows_format_preview_and_suggested_mapping(manager_client):
    response = upload(manager_client, PRODUCTS_CSV.encode())
    batch_id = batch_id_from(response)
    page = manager_client.get(f"/batches/{batch_id}/mapping").get_data(as_text=True)
    assert "UTF-8" in page and "comma" in page
    assert "Gold chain" in page and "Silver hoop earrings" in page
    batch = db.session.get(Batch, batch_id)
    assert batch.mapping["title"] == "Product Name"
    assert batch.mapping["mpn"] == "MPN"
    assert batch.mapping["country"] == "Country of origin"
    assert batch.status == BatchStatus.UPLOADED


def test_full_run_produces_prompts_images_tags_and_generators(manager_client, run_jobs):
    batch = upload_and_start(manager_client, PRODUCTS_CSV.encode())
    assert batch.status == BatchStatus.PROCESSING
    assert batch.total_rows == 3
    run_jobs()
    db.session.expire_all()
    batch = db.session.get(Batch, batch.id)
    assert batch.status == BatchStatus.COMPLETED, [e.message for e in db.session.scalars(select(BatchLog))]
    assert (batch.processed_rows, batch.successful_rows, batch.failed_rows) == (3, 3, 0)
    rows = db.session.scalars(select(BatchRow).order_by(BatchRow.row_number)).all()
    first = rows[0].results
    assert first["trigger"] == ("country: Poland; product type: Necklace; size: 45 cm; mpn: GC-001; "
                                "Gold-plated curb chain with 3 mm links")
    assert set(first["prompts"]) == {"lifestyle_emotional", "single_white_background"}
    assert first["prompts"]["lifestyle_emotional"]["generator"] == "template:lifestyle_emotional:default"
    assert "Gold chain" in first["prompts"]["lifestyle_emotional"]["text"]
    assert first["images"]["single_white_background"]["generator"] == "local-pillow-card"
    assert "rendered locally" in first["images"]["single_white_background"]["note"]
    assert first["tags"] and first["tags_generator"] == "yake-keywords"
    assert rows[0].data["Supplier note"] == "keep dry"  # extra columns kept as they are
    image = manager_client.get(f"/batches/{batch.id}/rows/{rows[0].id}/images/lifestyle_emotional")
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data[:3] == b"\xff\xd8\xff"
    page = manager_client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert "100 %" in page and "rendered locally" in page


def test_results_and_error_exports_are_formula_safe(manager_client, run_jobs):
    data = PRODUCTS_CSV + "+cmd|' /C calc'!A0,,,,,,\n"
    batch = upload_and_start(manager_client, data.encode(), mapping={"title": "Product Name", "mpn": "MPN"})
    run_jobs()
    results = manager_client.get(f"/batches/{batch.id}/results.csv")
    assert results.status_code == 200 and results.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(results.get_data(as_text=True))))
    titles = {r[0]: r[2] for r in table[1:]}
    assert titles["4"] == "'=HYPERLINK(\"http://x\")"
    for line in table:
        for cell in line:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    errors = manager_client.get(f"/batches/{batch.id}/errors.csv").get_data(as_text=True)
    assert "row_number,column,message" in errors  # the header
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status in (BatchStatus.COMPLETED, BatchStatus.COMPLETED_WITH_ERRORS)


def test_problems_are_reported_with_row_numbers_before_start_and_become_failed_rows(manager_client, run_jobs):
    data = "title,mpn\nGood one,A1\n,A2\nToo,many,values\nAnother,A4\n"
    response = upload(manager_client, data.encode())
    batch_id = batch_id_from(response)
    page = manager_client.post(f"/batches/{batch_id}/mapping", data={"field_title": "title", "field_mpn": "mpn"})
    text = page.get_data(as_text=True)
    assert "Row 3: title is empty" in text
    assert "Row 4 has 3 values but the header has 2 columns" in text
    assert db.session.scalar(select(func.count()).select_from(BatchRow)) == 0  # nothing ran yet
    manager_client.post(f"/batches/{batch_id}/start")
    run_jobs()
    db.session.expire_all()
    batch = db.session.get(Batch, batch_id)
    assert batch.status == BatchStatus.COMPLETED_WITH_ERRORS
    assert (batch.successful_rows, batch.failed_rows) == (2, 2)
    report = list(csv.reader(io.StringIO(manager_client.get(f"/batches/{batch_id}/errors.csv").get_data(as_text=True))))
    assert [r[0] for r in report[1:]] == ["3", "4"]
    assert report[1][1] == "title"
    # Rows the file gets wrong cannot be retried: retrying would fail the same way.
    response = manager_client.post(f"/batches/{batch_id}/retry")
    assert response.status_code == 302
    assert "No failed row can be retried" in manager_client.get(f"/batches/{batch_id}").get_data(as_text=True)


def test_mapping_can_be_saved_and_reused(manager_client):
    first = batch_id_from(upload(manager_client, b"Nazwa,Kod\nA,1\n"))
    manager_client.post(f"/batches/{first}/mapping", data={"field_title": "Nazwa", "field_mpn": "Kod",
                                                            "save_as": "Polish supplier"})
    saved = db.session.scalar(select(SavedMapping))
    assert saved.name == "Polish supplier" and saved.mapping == {"title": "Nazwa", "mpn": "Kod"}
    second = batch_id_from(upload(manager_client, b"Nazwa,Kod\nB,2\n"))
    page = manager_client.get(f"/batches/{second}/mapping?saved={saved.id}").get_data(as_text=True)
    assert '<option value="Kod" selected>' in page


def test_format_can_be_overridden(manager_client):
    batch_id = batch_id_from(upload(manager_client, b"a;b\n1;2\n"))
    response = manager_client.post(f"/batches/{batch_id}/format", data={"delimiter": ",", "encoding": "cp1252",
                                                                          "quotechar": '"', "has_header": "1"})
    assert response.status_code == 302
    batch = db.session.get(Batch, batch_id)
    assert batch.format["delimiter"] == "," and batch.format["encoding"] == "cp1252"


def test_staff_cannot_upload(staff_client):
    assert upload(staff_client, PRODUCTS_CSV.encode()).status_code == 403


def test_oversized_upload_is_refused(app, manager_client):
    app.config["BATCH_MAX_UPLOAD_BYTES"] = 100
    response = upload(manager_client, PRODUCTS_CSV.encode())
    assert response.status_code == 422
    assert "larger than" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Batch)) == 0


def test_too_many_rows_is_refused(app, manager_client):
    app.config["BATCH_MAX_ROWS"] = 2
    batch_id = batch_id_from(upload(manager_client, PRODUCTS_CSV.encode()))
    response = manager_client.post(f"/batches/{batch_id}/mapping", data={"field_title": "Product Name"})
    assert response.status_code == 422
    assert "the limit is 2" in response.get_data(as_text=True)
