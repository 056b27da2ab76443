"""The products board: each column capped, with "show more" paging one column, and a search."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import insert

from app.core.models import utcnow
from app.extensions import db
from app.pipeline.models import PhaseStatus, Product, ProductImage, ProductPhase, ProductStatus
from app.pipeline.selectors import BOARD_LIMIT, COLUMN_PAGE


def _products(org_id: int, status: ProductStatus, count: int, name: str = "Chain") -> list[int]:
    now = utcnow()
    ids = [db.session.execute(insert(Product).values(
        organisation_id=org_id, status=status, name=f"{name} {n}", confidence=70,
        updated_at=now - timedelta(minutes=n))).inserted_primary_key[0] for n in range(count)]
    db.session.commit()
    return ids


def _cards(page: str, status: str) -> list[int]:
    column = page.split(f'data-testid="col-{status}"')[1].split("</section>")[0]
    return [int(i) for i in re.findall(r'data-product-id="(\d+)"', column)]


def test_each_column_shows_its_newest_cards_and_how_many_more(org, manager_client):
    ids = _products(org.id, ProductStatus.NEEDS_REVIEW, BOARD_LIMIT + 5)
    page = manager_client.get("/products/").get_data(as_text=True)
    assert _cards(page, "needs_review") == ids[:BOARD_LIMIT]
    assert "and 5 more." in page and "status=needs_review" in page


def test_one_column_pages_with_show_more(org, manager_client):
    ids = _products(org.id, ProductStatus.COMPLETED, COLUMN_PAGE + 3)
    first = manager_client.get("/products/?status=completed").get_data(as_text=True)
    assert _cards(first, "completed") == ids[:COLUMN_PAGE]
    assert "and 3 more." in first and "page=2" in first
    second = manager_client.get("/products/?status=completed&page=2").get_data(as_text=True)
    assert _cards(second, "completed") == ids[COLUMN_PAGE:]
    assert "more." not in second.split('data-testid="col-completed"')[1]
    assert manager_client.get("/products/?status=completed&page=x").status_code == 200


def test_cards_show_the_first_photo_and_the_phases_in_order(org, manager_client):
    [product_id] = _products(org.id, ProductStatus.PROCESSING, 1)
    for position, sha in ((1, "b"), (0, "a")):
        db.session.add(ProductImage(organisation_id=org.id, product_id=product_id, sha256=sha * 64,
                                    thumb_sha256=sha * 64, filename=f"{sha}.jpg", format="JPEG", size_bytes=1,
                                    width=1, height=1, position=position))
    for position, (name, status) in enumerate((("analysis", PhaseStatus.COMPLETED), ("market", PhaseStatus.RUNNING))):
        db.session.add(ProductPhase(organisation_id=org.id, product_id=product_id, name=name, position=position,
                                    status=status))
    db.session.commit()
    first = db.session.query(ProductImage).filter_by(product_id=product_id, position=0).one()
    page = manager_client.get("/products/").get_data(as_text=True)
    assert f"/products/images/{first.id}/thumb" in page
    dots = re.findall(r'data-phase="(\w+)" data-status="(\w+)"', page)
    assert dots == [("analysis", "completed"), ("market", "running")]
    assert 'title="Market research: ' in page


def test_a_search_counts_and_shows_only_matches(org, manager_client):
    _products(org.id, ProductStatus.NEEDS_REVIEW, 30, name="Rolo")
    curb = _products(org.id, ProductStatus.NEEDS_REVIEW, 2, name="Curb")
    _products(org.id, ProductStatus.COMPLETED, 3, name="Curb")
    page = manager_client.get("/products/?q=curb").get_data(as_text=True)
    assert _cards(page, "needs_review") == curb
    assert len(_cards(page, "completed")) == 3
    assert "more." not in page


def test_a_search_ignores_case_and_takes_wildcards_literally(org, manager_client):
    _products(org.id, ProductStatus.NEEDS_REVIEW, 2, name="Silk 50% off")
    plain = _products(org.id, ProductStatus.NEEDS_REVIEW, 1, name="Silk 50 percent")
    assert len(_cards(manager_client.get("/products/?q=SILK+50%25").get_data(as_text=True), "needs_review")) == 2
    assert _cards(manager_client.get("/products/?q=silk+50+p").get_data(as_text=True), "needs_review") == plain
    assert _cards(manager_client.get("/products/?q=s_lk").get_data(as_text=True), "needs_review") == []
