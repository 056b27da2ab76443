"""Versions: regenerate, the one-latest constraint, rollback, archive, replace, annotate, compare."""
from __future__ import annotations

import io
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core import storage
from app.core.errors import Conflict, InvalidInput
from app.extensions import db
from app.techfiles import collections, selectors, services
from app.techfiles.models import FileStatus, FileType, TechFile, TechFileVersion
from tests.techfiles.helpers import make_product


@pytest.fixture
def generated(app, org, manager, run_jobs):
    product = make_product(org, manager)
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="tech_pack", by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.status.value == "completed", c.error
    return product, c


def _slot_files(f: TechFile) -> list[TechFile]:
    return db.session.scalars(select(TechFile).where(
        TechFile.product_id == f.product_id, TechFile.file_type == f.file_type, TechFile.view == f.view,
        TechFile.category == f.category, TechFile.revision == f.revision).order_by(TechFile.version)).all()


def _front(product) -> TechFile:
    return db.session.scalar(select(TechFile).where(TechFile.product_id == product.id, TechFile.is_latest.is_(True),
                                                    TechFile.file_type == FileType.BASE_VIEW,
                                                    TechFile.view == "front"))


def test_regenerating_twice_leaves_three_versions_and_one_latest(generated, org, manager):
    product, _ = generated
    first = _front(product)
    second = services.file_regenerate(org_id=org.id, file_id=first.id, by=manager, params={"margin": "0.2"},
                                      reason="more room")
    third = services.file_regenerate(org_id=org.id, file_id=second.id, by=manager)
    versions = _slot_files(first)
    assert [v.version for v in versions] == [1, 2, 3]
    assert [v.is_latest for v in versions] == [False, False, True]
    assert third.parent_id == second.id and second.parent_id == first.id
    assert second.parameters["margin"] == 0.2 and second.sha256 != first.sha256  # wider margin, other pixels
    history = db.session.scalars(select(TechFileVersion).where(
        TechFileVersion.tech_file_id.in_([v.id for v in versions])).order_by(TechFileVersion.id)).all()
    assert [h.action for h in history] == ["generated", "regenerated", "regenerated"]
    assert history[1].reason == "more room" and history[1].created_by_id == manager.id
    assert history[1].snapshot["version"] == 2 and history[1].snapshot["sha256"] == second.sha256
    assert third.credits == Decimal("1.00")  # regenerating is charged like generating


def test_the_database_rejects_a_second_latest_even_when_code_tries(generated, org):
    product, _ = generated
    front = _front(product)
    clone = TechFile(organisation_id=org.id, product_id=product.id, revision=front.revision,
                     file_type=front.file_type, view=front.view, category=front.category, version=99,
                     is_latest=True, generator="sneaky", credits=Decimal("0"))
    db.session.add(clone)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # Not latest, it is fine: history rows are unlimited.
    db.session.add(TechFile(organisation_id=org.id, product_id=product.id, revision="1",
                            file_type=FileType.BASE_VIEW, view="front", category="", version=99,
                            is_latest=False, generator="test", credits=Decimal("0")))
    db.session.commit()


def test_rollback_adds_a_version_equal_to_the_old_one(generated, org, manager):
    product, _ = generated
    v1 = _front(product)
    v2 = services.file_regenerate(org_id=org.id, file_id=v1.id, by=manager, params={"margin": "0.25"})
    v3 = services.file_rollback(org_id=org.id, file_id=v1.id, by=manager)
    assert v3.version == 3 and v3.is_latest and v3.sha256 == v1.sha256 and v3.analysis == v1.analysis
    assert v3.credits == 0 and v3.meta["rolled_back_from"] == 1 and v3.parent_id == v2.id
    with pytest.raises(Conflict):
        services.file_rollback(org_id=org.id, file_id=v3.id, by=manager)


def test_archive_is_a_soft_delete_and_rollback_restores(generated, org, manager):
    product, _ = generated
    front = _front(product)
    services.file_archive(org_id=org.id, file_id=front.id, by=manager, reason="wrong photo")
    db.session.refresh(front)
    assert front.status == FileStatus.ARCHIVED and not front.is_latest and front.sha256
    gallery = dict(selectors.gallery(org.id, product.id, "1"))
    assert front.id not in [f.id for f in gallery[FileType.BASE_VIEW]]
    assert front.id in [f.id for f in selectors.archived_slots(org.id, product.id, "1")]
    restored = services.file_rollback(org_id=org.id, file_id=front.id, by=manager)
    assert restored.is_latest and restored.status == FileStatus.COMPLETED and restored.version == 2


def test_upload_replacement_is_a_free_new_version(generated, org, manager):
    product, _ = generated
    front = _front(product)
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), "navy").save(buf, "PNG")
    new = services.file_replace(org_id=org.id, file_id=front.id, data=buf.getvalue(), filename="mine.png",
                                by=manager)
    assert new.version == 2 and new.generator == "upload" and new.credits == 0 and (new.width, new.height) == (300, 200)
    with pytest.raises(InvalidInput):
        services.file_replace(org_id=org.id, file_id=front.id, data=b"not an image", filename="x.jpg", by=manager)


def test_sketch_callouts_and_measurements_are_drawn_and_stored(generated, org, manager):
    product, _ = generated
    sketch = db.session.scalar(select(TechFile).where(TechFile.product_id == product.id,
                                                      TechFile.file_type == FileType.SKETCH, TechFile.is_latest))
    text = "callout: 30, 20, Logo embossed\nmeasure: 10, 90, 90, 90, Width, 12 cm"
    drawn = services.sketch_annotate(org_id=org.id, file_id=sketch.id, annotations=text, by=manager)
    manual = [m for m in drawn.analysis["measurements"] if not m.get("auto")]
    assert manual == [{"x1": 10.0, "y1": 90.0, "x2": 90.0, "y2": 90.0, "label": "Width", "value": "12 cm"}]
    assert [c["text"] for c in drawn.analysis["callouts"] if not c.get("auto")] == ["Logo embossed"]
    clean = sketch.meta["clean_sha256"]
    assert drawn.meta["clean_sha256"] == clean and drawn.sha256 != sketch.sha256
    with Image.open(storage.open_path(drawn.sha256)) as im:
        px = np.asarray(im.convert("RGB")).astype(int)
    red = int(((px[..., 0] > 150) & (px[..., 1] < 80) & (px[..., 2] < 80)).sum())
    assert red > 100  # the callouts are in the pixels, in red
    again = services.sketch_annotate(org_id=org.id, file_id=drawn.id, annotations="callout: 50, 50, Seam", by=manager)
    assert again.meta["clean_sha256"] == clean  # drawn on clean lines, never on old callouts
    assert [c["text"] for c in again.analysis["callouts"] if not c.get("auto")] == ["Seam"]
    for bad in ("callout: 120, 20, off the page", "measure: 1, 2", "scribble"):
        with pytest.raises(InvalidInput):
            services.sketch_annotate(org_id=org.id, file_id=sketch.id, annotations=bad, by=manager)


def test_compare_lists_what_changed_between_two_versions(generated, org, manager):
    product, _ = generated
    v1 = _front(product)
    v2 = services.file_regenerate(org_id=org.id, file_id=v1.id, by=manager, params={"margin": "0.3"})
    result = selectors.file_compare(org_id=org.id, a_id=v2.id, b_id=v1.id)
    assert (result.a.id, result.b.id) == (v1.id, v2.id)  # older on the left
    params = {r.key: r for r in result.parameters}
    assert params["margin"].status == "changed" and params["margin"].new == "0.3"
    meta_keys = {r.key for r in result.meta}
    assert "crop_box" in meta_keys
    assert result.pixels["identical"] is False
    same = selectors.file_compare(org_id=org.id, a_id=v1.id, b_id=v1.id)
    assert same.pixels["identical"] is True and not same.analysis


def test_diff_is_key_by_key():
    rows = {r.key: r for r in selectors.diff({"a": 1, "b": {"c": 2}, "gone": 1}, {"a": 1, "b": {"c": 3}, "new": [1]})}
    assert rows["b.c"].status == "changed" and rows["gone"].status == "removed" and rows["new"].status == "added"
    assert "a" not in rows


def test_version_counts_per_slot(generated, org, manager):
    product, _ = generated
    front = _front(product)
    services.file_regenerate(org_id=org.id, file_id=front.id, by=manager)
    counts = selectors.version_counts(org.id, product.id)
    assert counts[front.slot] == 2
    assert db.session.scalar(select(func.count()).select_from(TechFile).where(TechFile.is_latest)) == \
        len([c for c in counts])
