"""Storage hygiene: the sweep never removes a file a row names; it removes old unnamed files; refused
uploads leave nothing behind; usage per capability."""
from __future__ import annotations

import io
import os
import shutil
import time

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from app.backups.models import BackupRun
from app.backups.statuses import RunKind, RunStatus
from app.backups.sweep import storage_sweep
from app.core import storage
from app.core.models import utcnow
from app.extensions import db
from tests.backups.conftest import invoke, png

DAY = 86400
KINDS = ("none", "image", "thumb", "rendition", "clean", "batch_file", "batch_result", "batch_log", "import_file")


SUFFIX = {"batch_file": ".csv", "batch_result": ".jpg", "import_file": ".json"}


def _refer(org, user, product, batch, sha: str, kind: str) -> list:
    """A row that names `sha` the way `kind` of row does."""
    from app.batches.models import BatchLog, BatchRow
    from app.inventory.import_models import SupplierImport
    from app.pipeline.models import ProductImage
    from app.techfiles.models import FileType, TechFile

    if kind in ("image", "thumb"):
        main = sha if kind == "image" else "f" * 64
        return [ProductImage(organisation_id=org.id, product_id=product.id, sha256=main, filename="x.png",
                             format="PNG", size_bytes=1, width=1, height=1, thumb_sha256=sha if kind == "thumb" else None)]
    if kind in ("rendition", "clean"):
        meta = {"renditions": {"256": sha}} if kind == "rendition" else {"clean_sha256": sha}
        return [TechFile(organisation_id=org.id, product_id=product.id, revision=sha[:8], file_type=FileType.SKETCH,
                         view="front", sha256=None, generator="test", meta=meta)]
    if kind == "batch_file":
        from app.batches.models import Batch

        return [Batch(organisation_id=org.id, created_by_id=user.id, filename="b.csv", stored_sha256=sha)]
    if kind == "batch_result":
        return [BatchRow(batch_id=batch.id, organisation_id=org.id, row_number=int(sha[:6], 16), data={},
                         results={"images": {"lifestyle_emotional": {"sha256": sha, "suffix": ".jpg"}}})]
    if kind == "batch_log":
        return [BatchLog(batch_id=batch.id, organisation_id=org.id, level="info", operation="upload", message="m",
                         details={"sha256": sha})]
    return [SupplierImport(organisation_id=org.id, supplier="aliexpress", filename="x.json", file_sha256=sha,
                           file_size=1, format="json", status="previewed")]


# No shrinking: each example writes rows and files, and a failing one is printed as it is.
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(files=st.lists(st.tuples(st.binary(min_size=1, max_size=64), st.sampled_from(KINDS), st.booleans()),
                      min_size=1, max_size=12, unique_by=lambda f: f[0]))
def test_the_sweep_never_removes_a_file_a_row_names(app, org, manager, files):
    from app.batches.models import Batch, BatchLog, BatchRow
    from app.inventory.import_models import SupplierImport
    from app.pipeline.models import Product, ProductImage
    from app.techfiles.models import TechFile

    product = Product(organisation_id=org.id, hint_name="p", created_by_id=manager.id)
    batch = Batch(organisation_id=org.id, created_by_id=manager.id, filename="b.csv", stored_sha256="e" * 64)
    db.session.add_all([product, batch])
    db.session.flush()
    now, named, expected_gone = time.time(), set(), set()
    for data, kind, old in files:
        stored = storage.save_bytes(data, SUFFIX.get(kind, ""))
        sha = stored.sha256
        if old:
            os.utime(stored.path, (now - 8 * DAY, now - 8 * DAY))
        if kind == "none":
            if old:
                expected_gone.add(sha)
        else:
            named.add(sha)
            db.session.add_all(_refer(org, manager, product, batch, sha, kind))
    db.session.commit()
    swept = storage_sweep(dry_run=False, now=now)
    left = {f.sha256 for f in storage.iter_files()}
    assert named <= left, "a named file was removed"
    assert not (expected_gone & left), "an old unnamed file was kept"
    assert swept.removed == len(expected_gone)
    for model in (BatchLog, BatchRow, ProductImage, TechFile, SupplierImport, Batch, Product):
        db.session.execute(delete(model))
    db.session.commit()
    shutil.rmtree(storage.root(), ignore_errors=True)


def test_dry_run_lists_what_would_go_and_keeps_everything(app, org):
    old = storage.save_bytes(b"orphan" * 1000)
    young = storage.save_bytes(b"new orphan")
    os.utime(old.path, (time.time() - 9 * DAY,) * 2)
    result = invoke(app, "storage", "sweep", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"would remove {old.sha256[:2]}/{old.sha256[2:4]}/{old.sha256}" in result.output
    assert "would free 6.0 kB in 1 file(s)" in result.output and young.sha256 not in result.output
    assert old.path.exists()
    gone = invoke(app, "storage", "sweep")
    assert gone.exit_code == 0 and "freed 6.0 kB in 1 file(s)" in gone.output
    assert not old.path.exists() and young.path.exists()


def test_storing_a_file_again_restarts_its_grace_period(app, org):
    stored = storage.save_bytes(b"reused later")
    os.utime(stored.path, (time.time() - 9 * DAY,) * 2)
    storage.save_bytes(b"reused later")
    assert storage_sweep(dry_run=False).removed == 0 and stored.path.exists()


def test_nothing_is_removed_while_a_backup_is_being_taken(app, org):
    stored = storage.save_bytes(b"orphan")
    os.utime(stored.path, (time.time() - 9 * DAY,) * 2)
    from datetime import timedelta

    db.session.add(BackupRun(kind=RunKind.BACKUP, status=RunStatus.RUNNING, holder="w",
                             lease_until=utcnow() + timedelta(minutes=2)))
    db.session.commit()
    swept = storage_sweep(dry_run=False)
    assert swept.removed == 0 and "backup" in swept.note and stored.path.exists()


def test_a_refused_csv_upload_leaves_no_file(app, manager_client):
    response = manager_client.post("/batches/upload", data={"file": (io.BytesIO(png(1)), "photo.csv")},
                                   content_type="multipart/form-data")
    assert response.status_code in (400, 422), response.status_code
    assert list(storage.iter_files()) == []
    assert not any(p.name.startswith(".upload-") for p in storage.root().rglob("*"))


def test_usage_per_capability(app, full_instance):
    result = invoke(app, "storage", "usage")
    assert result.exit_code == 0, result.output
    for label in ("Product photos", "Tech files", "CSV batches", "Supplier imports"):
        assert label in result.output
    swept = storage_sweep(dry_run=True)
    assert swept.usage["Product photos"]["files"] == 4 and swept.unreferenced == 0


def test_a_measuring_run_is_what_the_health_page_shows(app, admin_client, full_instance, run_jobs):
    response = admin_client.htmx("post", "/admin/health/backups/measure")
    assert response.status_code == 200 and "queued" in response.get_data(as_text=True)
    run_jobs()
    panel = admin_client.get("/admin/health/storage").get_data(as_text=True)
    assert "Product photos" in panel and "Reclaimable" in panel
    assert db.session.query(BackupRun).one().status == RunStatus.SUCCEEDED
    assert RunKind.SWEEP == db.session.query(BackupRun).one().kind
