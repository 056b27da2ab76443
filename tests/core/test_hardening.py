"""Security findings and bad input: one test per finding, each failing on the code before the fix."""
from __future__ import annotations

import io
import re
import stat

import pytest
from PIL import Image
from rq import Worker
from sqlalchemy import func, select

from app import create_app
from app.analysis.images import ImageRejected, open_image_checked
from app.core import storage
from app.core.queue import enqueue, get_queue, get_redis
from app.core.security import CONTENT_SECURITY_POLICY
from app.extensions import db
from app.inventory.import_models import SupplierImport
from app.inventory.models import Item
from app.pipeline.models import Product
from tests.conftest import ROOT
from tests.inbox.helpers import channel, post_json


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, "PNG")
    return out.getvalue()


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- headers --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", "/", "/inventory/", "/inventory/items/999999", "/static/app.js"])
def test_every_response_carries_the_security_headers(manager_client, path):
    response = manager_client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_htmx_partials_and_errors_carry_them_too(manager_client):
    partial = manager_client.htmx("get", "/inventory/")
    assert partial.status_code == 200 and "Content-Security-Policy" in partial.headers
    refused = manager_client.post("/inventory/items/new", data={"sku": "", "title": ""})
    assert refused.status_code == 422 and refused.headers["X-Content-Type-Options"] == "nosniff"


# Every way to run script or style from markup that the policy refuses: handlers, inline blocks,
# style attributes, HTMX's evaluated attributes.
INLINE_CODE = re.compile(
    r"""\son[a-z]+\s*=|<script(?![^>]*\ssrc=)[^>]*>|<style\b|\sstyle\s*=\s*["']|hx-on[:-]|hx-vals\s*=\s*["']\s*js:|hx-vars""",
    re.IGNORECASE)
HX_TRIGGER = re.compile(r'hx-trigger="([^"]*)"')


def _event_filters(line: str) -> list[str]:
    """HTMX event filters (`click[ctrlKey]`): JavaScript that HTMX runs through eval. A `[...]` in a
    `from:` selector is CSS and is fine."""
    parts = [part.split()[0] for value in HX_TRIGGER.findall(line) for part in value.split(",") if part.split()]
    return [part for part in parts if "[" in part]


def test_no_template_holds_inline_script_or_style():
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(template.read_text().splitlines(), 1):
            if INLINE_CODE.search(line) or _event_filters(line):
                found.append(f"{template.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert found == []


def test_the_item_picker_target_never_reaches_javascript(manager_client, org):
    from tests.inbox.helpers import make_catalogue

    make_catalogue(org.id)
    attack = "item-1');alert(document.cookie);//"
    refused = manager_client.htmx("get", "/inbox/items", query_string={"q": "EAR", "target": attack})
    assert refused.status_code == 400 and "alert(document.cookie)" not in refused.get_data(as_text=True)
    picker = manager_client.htmx("get", "/inbox/items", query_string={"q": "EAR", "target": "item-7"})
    page = picker.get_data(as_text=True)
    assert picker.status_code == 200 and 'data-pick-into="item-7"' in page and "onclick" not in page


def test_a_personal_data_export_is_never_cached(app, org, client, manager_client):
    post_json(client, channel(org.id), {"id": "cache-1", "from": "+15550001", "text": "hello", "name": "Ann"})
    from app.orders.models import Customer

    customer = db.session.scalar(select(Customer))
    export = manager_client.get(f"/inbox/customers/{customer.id}/export")
    assert export.status_code == 200 and export.headers["Cache-Control"] == "no-store"


def test_a_csv_download_names_its_charset_once(manager_client, org, manager):
    from tests.batches.helpers import make_batch

    batch = make_batch(org, manager, 2)
    response = manager_client.get(f"/batches/{batch.id}/results.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].lower().count("charset") == 1


# --- health, jobs and workers ---------------------------------------------------------------

def test_healthz_says_only_up_or_down_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "up"}
    assert b"Redis" not in response.data and b"GB free" not in response.data


def test_healthz_gives_admins_the_details(admin_client, manager_client):
    assert "components" in admin_client.get("/healthz").get_json()
    assert manager_client.get("/healthz").get_json() == {"status": "up"}


def test_the_jobs_page_hides_system_jobs_and_refuses_to_retry_them(admin_client, run_jobs, org):
    enqueue("tests.core.jobs_for_tests.explode", "boom of the system")  # no organisation: a system job
    run_jobs()
    page = admin_client.get("/admin/jobs").get_data(as_text=True)
    assert "boom of the system" not in page and "RuntimeError" not in page
    from rq.registry import FailedJobRegistry

    (job_id,) = FailedJobRegistry(queue=get_queue()).get_job_ids()
    assert admin_client.post(f"/admin/jobs/{job_id}/retry").status_code == 404
    assert job_id in FailedJobRegistry(queue=get_queue()).get_job_ids()


def test_the_jobs_page_names_only_this_organisations_running_jobs(admin_client, org, other_org):
    theirs = enqueue("tests.core.jobs_for_tests.explode", "theirs", org_id=other_org.id)
    ours = enqueue("tests.core.jobs_for_tests.explode", "ours", org_id=org.id)
    workers = []
    for name, job in (("busy-for-them", theirs), ("busy-for-us", ours)):
        worker = Worker([get_queue()], connection=get_redis(), name=f"{get_queue().name}-{name}")
        worker.register_birth()
        worker.set_current_job_id(job.id)
        workers.append(worker)
    try:
        page = admin_client.get("/admin/jobs").get_data(as_text=True)
        assert ours.id in page and theirs.id not in page
    finally:
        for worker in workers:
            worker.register_death()


def test_a_batch_page_lists_only_the_workers_of_that_batch(manager_client, org, other_org, manager, make_user):
    from app.batches.models import BatchWorker
    from tests.batches.helpers import make_batch

    ours = make_batch(org, manager, 1)
    theirs = make_batch(other_org, make_user(other_org, "manager"), 1)
    db.session.add_all([BatchWorker(instance="worker-on-ours", current_batch_id=ours.id),
                        BatchWorker(instance="worker-on-theirs", current_batch_id=theirs.id)])
    db.session.commit()
    page = manager_client.get(f"/batches/{ours.id}").get_data(as_text=True)
    assert "worker-on-ours" in page and "worker-on-theirs" not in page


# --- forms and uploads ----------------------------------------------------------------------

def test_the_new_item_form_says_what_is_wrong_with_the_category(manager_client):
    response = manager_client.post("/inventory/items/new", data={"sku": "CAT-1", "title": "Chain",
                                                                 "category_path": "Chains > > Bracelet"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="f-category_path"[^>]*value="Chains &gt; &gt; Bracelet"', page)
    assert "has an empty level" in page
    assert db.session.scalar(select(func.count()).select_from(Item)) == 0


def test_a_huge_csv_field_without_a_newline_is_a_clear_refusal(manager_client):
    data = b"x" * 300_000
    response = manager_client.post("/inventory/imports", data={"file": (io.BytesIO(data), "export.csv")},
                                   content_type="multipart/form-data")
    assert response.status_code == 422
    assert "longer than" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SupplierImport)) == 0


def test_deeply_nested_json_in_a_supplier_import_is_a_clear_refusal(manager_client):
    data = b"[" * 100_000 + b"]" * 100_000
    response = manager_client.post("/inventory/imports", data={"file": (io.BytesIO(data), "export.json")},
                                   content_type="multipart/form-data")
    assert response.status_code in (400, 422) and "nested more than" in response.get_data(as_text=True)


def test_an_image_too_long_on_one_side_is_refused_by_the_checker():
    with pytest.raises(ImageRejected, match="longer than the limit of 16,383 pixels a side"):
        open_image_checked(io.BytesIO(_png(1, 100_000)))
    assert open_image_checked(io.BytesIO(_png(4, 16_383))).size == (4, 16_383)


def test_a_1_by_100000_png_is_refused_at_upload(manager_client):
    response = manager_client.post("/products/new", data={"images": (io.BytesIO(_png(1, 100_000)), "strip.png")},
                                   content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "strip.png" in page and "pixels a side" in page
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


# --- files on disk --------------------------------------------------------------------------

def test_database_instance_and_uploads_are_private(app_config, tmp_path):
    database = tmp_path / "private" / "stockroom.db"
    config = dict(app_config, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                  INSTANCE_DIR=str(tmp_path / "instance"), UPLOAD_DIR=str(tmp_path / "files"))
    fresh = create_app(config)
    with fresh.app_context():
        db.session.execute(select(1))
        stored = storage.save_bytes(b"a private upload")
        streamed = storage.save_stream(io.BytesIO(b"another private upload"))
        db.engine.dispose()
    assert _mode(database) == 0o600 and _mode(database.parent) == 0o700
    assert _mode(tmp_path / "instance") == 0o700
    for path in (stored.path, streamed.path):
        assert _mode(path) == 0o600
        assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700
    assert _mode(tmp_path / "files") == 0o700


def test_an_existing_world_readable_database_is_tightened_at_start(app_config, tmp_path):
    database = tmp_path / "old.db"
    database.write_bytes(b"")
    database.chmod(0o644)
    create_app(dict(app_config, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}"))
    assert _mode(database) == 0o600


def test_backup_files_are_private(app):
    from app.backups import archive

    made = archive.backup_create()
    assert _mode(made.backup.path) == 0o700
    files = [p for p in made.backup.path.rglob("*") if p.is_file()]
    assert files and all(_mode(p) == 0o600 for p in files)
