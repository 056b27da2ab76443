"""Share links: signed, random, stored hashed; expiring and revocable; every open logged; nothing
beyond the shared pack reachable through them."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.core.errors import InvalidInput, NotFound
from app.core.models import utcnow
from app.extensions import db
from app.techfiles import collections, shares
from app.techfiles.models import FileType, ShareLink, ShareOpen, TechFile
from tests.techfiles.helpers import make_product


@pytest.fixture
def packed(app, org, manager, run_jobs):
    product = make_product(org, manager, photos=("label.webp",))
    c = collections.collection_start(org_id=org.id, product_id=product.id, by=manager, name="Winter 2025 line")
    run_jobs()
    db.session.refresh(c)
    return product, c


def test_the_token_is_random_signed_and_only_its_hash_is_kept(packed, org, manager):
    product, _c = packed
    made = shares.share_create(org_id=org.id, product_id=product.id, label="Ningbo factory", days=7, by=manager)
    raw, _, signature = made.token.rpartition(".")
    assert len(raw) >= 40 and signature
    row = db.session.get(ShareLink, made.link.id)
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest() and raw not in str(row.__dict__)
    assert shares.share_resolve(made.token).id == row.id
    for forged in (raw, raw + ".x", made.token[:-2] + "AA", "nonsense"):
        with pytest.raises(NotFound):
            shares.share_resolve(forged)
    other = shares.share_create(org_id=org.id, product_id=product.id, label="Ningbo factory", days=7, by=manager)
    assert other.token != made.token


def test_links_expire_and_revoke(packed, org, manager, client):
    product, _c = packed
    made = shares.share_create(org_id=org.id, product_id=product.id, label="Porto atelier", days=1, by=manager)
    assert client.get(f"/share/{made.token}").status_code == 200
    db.session.execute(update(ShareLink).where(ShareLink.id == made.link.id).values(
        expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    with pytest.raises(NotFound):
        shares.share_resolve(made.token)
    assert client.get(f"/share/{made.token}").status_code == 404

    fresh = shares.share_create(org_id=org.id, product_id=product.id, label="Porto atelier", days=1, by=manager)
    assert client.get(f"/share/{fresh.token}").status_code == 200
    shares.share_revoke(org_id=org.id, link_id=fresh.link.id, by=manager)
    assert client.get(f"/share/{fresh.token}").status_code == 404
    assert db.session.get(ShareLink, fresh.link.id).state == "revoked"


def test_bad_input_is_refused(packed, org, other_org, manager, make_user, manager_client):
    product, _c = packed
    for label, days in (("", 7), ("Factory", 0), ("Factory", 1000), ("Factory", "soon")):
        with pytest.raises(InvalidInput):
            shares.share_create(org_id=org.id, product_id=product.id, label=label, days=days, by=manager)
    theirs = make_product(other_org, make_user(other_org, "manager"), photos=("label.webp",))
    their_c = collections.collection_start(org_id=other_org.id, product_id=theirs.id, by=None)
    with pytest.raises(InvalidInput):
        shares.share_create(org_id=org.id, product_id=product.id, label="x", days=3, collection_id=their_c.id,
                            by=manager)
    r = manager_client.post(f"/techfiles/products/{product.id}/share", data={"label": "Ningbo", "days": "many"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "number of days" in page and 'value="many"' in page and 'value="Ningbo"' in page


def test_the_shared_page_shows_the_pack_and_nothing_else(packed, org, manager, client, manager_client, run_jobs):
    product, c = packed
    r = manager_client.post(f"/techfiles/products/{product.id}/share", data={"label": "Ningbo factory", "days": "14"})
    assert r.status_code == 201
    url = r.get_data(as_text=True).split('data-testid="new-share-url"')[0].rsplit('value="', 1)[1].split('"')[0]
    token = url.rsplit("/", 1)[1]
    page = client.get(f"/share/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and product.title in html and page.headers["Referrer-Policy"] == "no-referrer"
    assert "credits" not in html and org.name not in html and manager.email not in html
    files = [i.tech_file for i in c.items]
    image = next(f for f in files if f.file_type == FileType.BASE_VIEW)
    assert client.get(f"/share/{token}/files/{image.id}").status_code == 200
    pack = next(f for f in files if f.file_type == FileType.COMPLETE_PACK)
    pdf = client.get(f"/share/{token}/files/{pack.id}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    # Another product's file, even of the same organisation, is not part of this pack.
    elsewhere = make_product(org, manager, photos=("code.webp",), name="Other thing")
    collections.collection_start(org_id=org.id, product_id=elsewhere.id, kind="base_views", by=manager)
    run_jobs()
    theirs = db.session.scalar(select(TechFile).where(TechFile.product_id == elsewhere.id))
    assert client.get(f"/share/{token}/files/{theirs.id}").status_code == 404
    assert client.get(f"/share/{token}/files/999999").status_code == 404
    # Every open is logged and shown to the organisation.
    opens = db.session.scalars(select(ShareOpen)).all()
    assert [o.what for o in opens] == ["page", "pdf"] and all(o.address == "127.0.0.1" for o in opens)
    listing = manager_client.get(f"/techfiles/products/{product.id}/share").get_data(as_text=True)
    assert "Ningbo factory" in listing and "127.0.0.1" in listing


def test_a_link_limited_to_one_collection(packed, org, manager, client, run_jobs):
    product, c = packed
    later = collections.collection_start(org_id=org.id, product_id=product.id, kind="base_views", by=manager,
                                         name="Just the front", force=True)
    run_jobs()
    db.session.refresh(later)
    made = shares.share_create(org_id=org.id, product_id=product.id, label="Sampler", days=3,
                               collection_id=later.id, by=manager)
    html = client.get(f"/share/{made.token}").get_data(as_text=True)
    assert "Just the front" in html and "Sketches" not in html
    sketch = next(i.tech_file for i in c.items if i.tech_file.file_type == FileType.SKETCH)
    assert client.get(f"/share/{made.token}/files/{sketch.id}").status_code == 404
    pdf = client.get(f"/share/{made.token}/pack.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
