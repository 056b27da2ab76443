"""Pages: gallery, file, compare, collection, PDF export (parsed back), credits totals, roles."""
from __future__ import annotations

import hashlib
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.techfiles import collections, services
from app.techfiles.models import FileType, TechFile
from tests.techfiles.helpers import make_product


@pytest.fixture
def pack(app, org, manager, run_jobs):
    product = make_product(org, manager)
    c = collections.collection_start(org_id=org.id, product_id=product.id, by=manager)
    run_jobs()
    db.session.refresh(c)
    return product, c


def _total_credits(org) -> Decimal:
    return Decimal(db.session.scalar(select(func.coalesce(func.sum(TechFile.credits), 0)).where(
        TechFile.organisation_id == org.id)))


def _embedded_images(reader: PdfReader) -> list[tuple[str, int, int, str]]:
    found = []
    for page in reader.pages:
        xobjects = page.get("/Resources", {}).get("/XObject", {})
        for name in xobjects:
            obj = xobjects[name].get_object()
            if obj.get("/Subtype") == "/Image":
                data = obj.get_data() if obj.get("/Filter") != "/DCTDecode" else obj._data
                found.append((str(obj.get("/Filter")), int(obj["/Width"]), int(obj["/Height"]),
                              hashlib.sha256(data).hexdigest()))
    return found


def test_pdf_tech_pack_has_the_latest_versions(pack, org, manager, manager_client):
    product, c = pack
    front = db.session.scalar(select(TechFile).where(TechFile.product_id == product.id, TechFile.is_latest,
                                                     TechFile.file_type == FileType.BASE_VIEW, TechFile.view == "front"))
    newer = services.file_regenerate(org_id=org.id, file_id=front.id, by=manager, params={"margin": "0.3"})
    response = manager_client.get(f"/techfiles/collections/{c.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Tech pack: Barcode label" in text and "9780804816632" in text
    for heading in ("Base views", "Close-ups", "Sketches"):
        assert heading in text
    assert "front · version v2" in text and "back · version v1" in text
    # a cover, then each section starts a page and holds two images per page (the pack's own PDF is not in it)
    per_section = {}
    for item in c.items:
        if item.section != "complete_pack":
            per_section[item.section] = per_section.get(item.section, 0) + 1
    assert len(reader.pages) == 1 + sum(-(-n // 2) for n in per_section.values())
    embedded = _embedded_images(reader)
    jpeg_hashes = {h for f, _w, _h, h in embedded if f == "/DCTDecode"}
    assert newer.sha256 in jpeg_hashes and front.sha256 not in jpeg_hashes  # the latest, byte for byte
    sketches = [i.tech_file for i in c.items if i.tech_file.file_type == FileType.SKETCH]
    assert all((s.width, s.height) in {(w, h) for _f, w, h, _h in embedded} for s in sketches)
    assert len(embedded) == len(c.items) - 1


def test_credit_totals_on_every_page_equal_the_sum_of_file_credits(pack, org, manager, manager_client):
    product, c = pack
    services.credit_cost_set(org_id=org.id, file_type="base_view", credits="1.25", by=manager)
    front = next(i.tech_file for i in c.items if i.tech_file.file_type == FileType.BASE_VIEW)
    services.file_regenerate(org_id=org.id, file_id=front.id, by=manager)
    total = _total_credits(org)
    assert total == Decimal(len(c.items) - 1) + Decimal("1.25")  # the complete pack costs nothing
    page = manager_client.get("/techfiles/credits").get_data(as_text=True)
    assert re.search(rf'data-testid="credits-total">{total}<', page)
    assert re.search(rf'data-testid="credits-30">{total}<', page) and re.search(rf'data-testid="credits-7">{total}<', page)
    assert re.search(rf'data-testid="credits-by-type-total">{total}<', page)
    assert "<svg" in page and "Credits by file type" in page and manager.email in page or manager.display_name in page
    collection_page = manager_client.get(f"/techfiles/collections/{c.id}").get_data(as_text=True)
    in_collection = sum((i.tech_file.credits for i in c.items), Decimal("0"))
    assert f'data-testid="collection-credits">{in_collection}<' in collection_page
    index = manager_client.get("/techfiles/").get_data(as_text=True)
    assert f">{total}</td>" in index
    gallery = manager_client.get(f"/techfiles/products/{product.id}").get_data(as_text=True)
    assert f'data-testid="product-credits">{total}<' in gallery
    dashboard = manager_client.get("/").get_data(as_text=True)
    assert f'data-testid="techfiles-week-credits">{total}<' in dashboard


def test_gallery_file_history_and_compare_pages(pack, org, manager, manager_client, staff_client):
    product, c = pack
    page = staff_client.get(f"/techfiles/products/{product.id}").get_data(as_text=True)
    assert "Base views" in page and "Close-ups" in page and "Sketches" in page and "v1" in page
    assert "Start" not in page  # staff see, managers change
    front = next(i.tech_file for i in c.items if i.tech_file.view == "front"
                 and i.tech_file.file_type == FileType.BASE_VIEW)
    r = manager_client.post(f"/techfiles/files/{front.id}/regenerate", data={"margin": "0.2", "reason": "roomier"})
    assert r.status_code == 303
    v2 = db.session.scalar(select(TechFile).where(TechFile.parent_id == front.id))
    page = manager_client.get(f"/techfiles/files/{v2.id}").get_data(as_text=True)
    assert "roomier" in page and "Regenerated" in page and "Generated" in page
    # Parameters and analysis data as labelled fields, the raw JSON one click away.
    parameters = page.split('data-testid="parameters">')[1].split("</td>")[0]
    assert '<dl class="fields">' in parameters and "<dt>Margin</dt><dd>0.2</dd>" in parameters
    assert '<details class="raw">' in parameters and "&#34;margin&#34;: 0.2" in parameters.split("<details")[1]
    compare = manager_client.get(f"/techfiles/files/{v2.id}/compare?with={front.id}").get_data(as_text=True)
    assert "margin" in compare and "changed" in compare and "crop_box" in compare
    image = manager_client.get(f"/techfiles/files/{v2.id}/image")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert staff_client.post(f"/techfiles/files/{v2.id}/archive").status_code == 403
    gallery = manager_client.htmx("get", f"/techfiles/products/{product.id}").get_data(as_text=True)
    # The partial is the inside of the live block (which stays on the page), never the whole page.
    assert 'id="tf-gallery"' not in gallery and "<html" not in gallery and "v2 of 2" in gallery


def test_bad_input_is_a_message_not_a_500(pack, org, manager_client):
    product, c = pack
    sketch = next(i.tech_file for i in c.items if i.tech_file.file_type == FileType.SKETCH)
    r = manager_client.post(f"/techfiles/files/{sketch.id}/annotate", data={"annotations": "callout: 500, 1, x"},
                            follow_redirects=True)
    assert r.status_code == 200 and "percentages between 0 and 100" in r.get_data(as_text=True)
    r = manager_client.post(f"/techfiles/files/{sketch.id}/replace",
                            data={"file": (io.BytesIO(b"%PDF-1.4 nope"), "x.png")},
                            content_type="multipart/form-data", follow_redirects=True)
    assert r.status_code == 200 and "not an image" in r.get_data(as_text=True)
    r = manager_client.post("/techfiles/credits", data={"file_type": "sketch", "credits": "lots"})
    assert r.status_code == 422 and "number of credits" in r.get_data(as_text=True)
    r = manager_client.post(f"/techfiles/products/{product.id}/collections", data={"kind": "tech_pack",
                                                                                   "revision": "x" * 50},
                            follow_redirects=True)
    assert "short label" in r.get_data(as_text=True)


def test_compare_with_another_organisations_file_is_404(pack, org, other_org, make_user, manager_client):
    product, c = pack
    theirs = make_product(other_org, make_user(other_org, "manager"), photos=("label.webp",))
    new = services.NewFile(sha256=None, mime=None, width=None, height=None, generator="test")
    f = services.add_version(org_id=other_org.id, product_id=theirs.id, revision="1", file_type=FileType.BASE_VIEW,
                             view="front", category="", new=new, by_id=None, action="created")
    db.session.commit()
    mine = c.items[0].tech_file_id
    assert manager_client.get(f"/techfiles/files/{mine}/compare?with={f.id}").status_code == 404
    assert manager_client.get(f"/techfiles/files/{mine}/compare?with=nonsense").status_code == 200
