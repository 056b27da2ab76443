"""What a factory reads: the category sheet, the complete pack kept current, shot names, lengths
derived from one known length, and PDF text in any script."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.core import storage
from app.core.errors import InvalidInput
from app.extensions import db
from app.techfiles import collections, measurements, services
from app.techfiles.models import FileType, TechFile
from tests.techfiles.helpers import make_product


@pytest.fixture
def pack(app, org, manager, run_jobs):
    product = make_product(org, manager, photos=("label.webp",), name="Biscuit tin")
    product.category = "Food › Biscuits"
    db.session.commit()
    c = collections.collection_start(org_id=org.id, product_id=product.id, by=manager)
    run_jobs()
    db.session.refresh(c)
    return product, c


def _latest(product_id: int, file_type: FileType, **where) -> TechFile:
    query = select(TechFile).where(TechFile.product_id == product_id, TechFile.file_type == file_type,
                                   TechFile.is_latest.is_(True))
    for key, value in where.items():
        query = query.where(getattr(TechFile, key) == value)
    return db.session.scalar(query)


def _pdf_text(f: TechFile) -> str:
    reader = PdfReader(storage.open_path(f.sha256))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_prints_any_script(app, org, manager, run_jobs, manager_client):
    product = make_product(org, manager, photos=("label.webp",), name="Größe Жемчуг 中文 café")
    product.category, product.brand = "Food › Biscuits", "Maison Étoile"
    db.session.commit()
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="base_views", by=manager)
    run_jobs()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(
        manager_client.get(f"/techfiles/collections/{c.id}/pdf").data)).pages)
    assert "Food › Biscuits" in text and "Größe Жемчуг 中文 café" in text and "Maison Étoile" in text
    for ch in ("›", "é", "ß", "Ж", "中"):
        assert ch in text


def test_category_sheet_and_complete_pack_are_generated(pack, org, manager):
    product, c = pack
    sheet = _latest(product.id, FileType.CATEGORY)
    assert sheet.category == "Food › Biscuits" and sheet.mime == "image/png" and sheet.width > sheet.height
    assert sheet.analysis["products"] == [product.id] and sheet.credits == Decimal("1.00")
    packed = _latest(product.id, FileType.COMPLETE_PACK)
    assert packed.mime == "application/pdf" and packed.credits == 0
    text = _pdf_text(packed)
    assert "Tech pack: Biscuit tin" in text and "Category sheet" in text and "Food › Biscuits" in text
    assert packed.meta["files"] == [f.id for f in services.units.selectors.pack_files(org.id, product.id, "1")]


def test_the_complete_pack_follows_its_files(pack, org, manager, run_jobs):
    product, _c = pack
    before = _latest(product.id, FileType.COMPLETE_PACK)
    front = _latest(product.id, FileType.BASE_VIEW)
    newer = services.file_regenerate(org_id=org.id, file_id=front.id, by=manager, params={"margin": "0.25"})
    run_jobs()  # the pack's refresh job
    after = _latest(product.id, FileType.COMPLETE_PACK)
    assert after.version == before.version + 1 and newer.id in after.meta["files"] and front.id not in after.meta["files"]
    run_jobs()
    assert _latest(product.id, FileType.COMPLETE_PACK).id == after.id  # nothing changed: no new version


def test_close_ups_are_named_by_position_and_keep_a_persons_name(pack, org, manager, run_jobs):
    product, _c = pack
    close = db.session.scalars(select(TechFile).where(TechFile.product_id == product.id, TechFile.is_latest,
                                                      TechFile.file_type == FileType.CLOSE_UP)).all()
    words = {"upper", "lower", "middle", "left", "right", "centre"}
    for f in close:
        assert f.shot_name != f.category and set(f.shot_name.split()[0:2]) <= words | {"2", "3"}
    target = close[0]
    services.file_rename(org_id=org.id, file_id=target.id, label="clasp", by=manager)
    db.session.refresh(target)
    assert target.shot_name == "clasp"
    sketch = _latest(product.id, FileType.SKETCH)
    assert "clasp" in [c["text"] for c in sketch.analysis["callouts"]]  # the sketch's callout follows, free
    assert sketch.credits == 0
    again = services.file_regenerate(org_id=org.id, file_id=target.id, by=manager)
    assert again.shot_name == "clasp" and again.version == target.version + 1  # kept across versions


def test_measurements_are_derived_from_the_reference_length(pack, org, manager, manager_client):
    product, _c = pack
    sketch = _latest(product.id, FileType.SKETCH)
    lines = [m for m in sketch.analysis["measurements"] if m.get("auto")]
    assert {m["label"] for m in lines} == {"Width", "Height"} and all(m["value"] == "" for m in lines)
    text = _pdf_text(_latest(product.id, FileType.COMPLETE_PACK))
    assert "no reference length" in text and " cm" not in text  # without a reference no number is printed

    base = _latest(product.id, FileType.BASE_VIEW)
    placement = measurements.Placement.of(base.meta)
    box = base.analysis["object"]["box"]
    # The object's full width on the base view is said to be 45 cm: the sketch's width must come out 45 cm.
    (x1, y), (x2, _) = placement.to_percent(box[0], box[1]), placement.to_percent(box[2], box[1])
    rows = services.scale_reference_set(org_id=org.id, file_id=base.id, points={"x1": x1, "y1": y, "x2": x2, "y2": y},
                                        length="45", unit="cm", label="Width of the tin", by=manager)
    assert len(rows) == 1 and rows[0].credits == 0
    measured = _latest(product.id, FileType.SKETCH)
    by_label = {m["label"]: m for m in measured.analysis["measurements"] if m.get("auto")}
    width = float(by_label["Width"]["value"].split()[0])
    assert abs(width - 45) <= 0.5 and by_label["Width"]["value"].endswith(" cm")
    assert by_label["Height"]["value"] and all(m["derived"] for m in by_label.values())
    assert "derived from the reference length" in by_label["Width"]["note"]
    page = manager_client.get(f"/techfiles/files/{measured.id}").get_data(as_text=True)
    assert "derived from the reference length" in page and "Width of the tin" in page
    for bad in ({"x1": 10, "y1": 10, "x2": 10, "y2": 10}, {"x1": -1, "y1": 10, "x2": 50, "y2": 10}):
        with pytest.raises(InvalidInput):
            services.scale_reference_set(org_id=org.id, file_id=base.id, points=bad, length="45", unit="cm",
                                         label="x", by=manager)
    with pytest.raises(InvalidInput):
        services.scale_reference_set(org_id=org.id, file_id=base.id, points={"x1": 1, "y1": 1, "x2": 50, "y2": 1},
                                     length="0", unit="cm", label="x", by=manager)
    r = manager_client.post(f"/techfiles/files/{base.id}/scale", data={"label": "Chain", "length": "long", "unit": "cm",
                                                                      "x1": "1", "y1": "1", "x2": "50", "y2": "1"})
    assert r.status_code == 422 and 'value="long"' in r.get_data(as_text=True)


def test_stats_page(pack, manager_client):
    page = manager_client.get("/techfiles/stats").get_data(as_text=True)
    assert "<svg" in page and "Completion rate by file type" in page and 'data-testid="collection-rate">100.0 %' in page
