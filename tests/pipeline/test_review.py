"""Review queue: oldest first, approve with audit trail and continue, reject archives."""
from __future__ import annotations

from sqlalchemy import select

from app.core.models import AuditEntry
from app.extensions import db
from app.pipeline.models import PhaseStatus, Product, ProductStatus
from tests.pipeline.helpers import BLANK_PHOTO, create_product


def _fresh(product_id: int) -> Product:
    db.session.expire_all()
    return db.session.get(Product, product_id)


def _waiting(org, manager, run_jobs, n=1, **hints):
    products = [create_product(org, manager, BLANK_PHOTO, **hints) for _ in range(n)]
    run_jobs()
    assert all(_fresh(p.id).status == ProductStatus.NEEDS_REVIEW for p in products)
    return products


def test_queue_shows_the_oldest_first_with_the_form_prefilled(org, manager, admin_client, run_jobs, later_phases):
    first, second = _waiting(org, manager, run_jobs, 2, hint_name="Blue enamel mug", hint_model="M-1")
    page = admin_client.get("/review/").get_data(as_text=True)
    assert f'data-product-id="{first.id}"' in page and "1 of 2 waiting" in page
    assert 'value="Blue enamel mug"' in page and 'value="M-1"' in page
    page = admin_client.get("/review/?i=1").get_data(as_text=True)
    assert f'data-product-id="{second.id}"' in page


def test_approve_records_the_correction_and_continues(org, manager, admin, admin_client, run_jobs, later_phases):
    (product,) = _waiting(org, manager, run_jobs)
    response = admin_client.post(f"/review/{product.id}/approve", data={
        "name": "Enamel mug", "brand": "Outdoorsy", "model": "M-1", "category": "Kitchen",
        "gtin": "9780140013993", "condition": "new"})
    assert response.status_code == 302
    product = _fresh(product.id)
    assert product.status == ProductStatus.PROCESSING
    assert product.confidence == 100 and product.confidence_source == "confirmed by person"
    assert product.phase("analysis").status == PhaseStatus.COMPLETED
    assert product.phase("market").status == PhaseStatus.QUEUED
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "product.review_approved")).one()
    assert entry.actor_id == admin.id and entry.object_id == str(product.id)
    assert entry.before["name"] is None and entry.after["name"] == "Enamel mug"
    assert entry.before["confidence"] == 0 and entry.after["confidence"] == 100
    run_jobs()
    assert _fresh(product.id).status == ProductStatus.COMPLETED


def test_approve_refuses_a_bad_gtin_and_keeps_the_product_waiting(org, manager, admin_client, run_jobs,
                                                                  later_phases):
    (product,) = _waiting(org, manager, run_jobs)
    response = admin_client.post(f"/review/{product.id}/approve", data={"name": "Mug", "gtin": "1234567890123"})
    assert response.status_code == 422 and "not valid" in response.get_data(as_text=True)
    product = _fresh(product.id)
    assert product.status == ProductStatus.NEEDS_REVIEW and product.name is None


def test_reject_archives_with_the_reason(org, manager, admin_client, run_jobs, later_phases):
    (product,) = _waiting(org, manager, run_jobs)
    assert admin_client.post(f"/review/{product.id}/reject", data={"reason": ""}).status_code == 422
    assert admin_client.post(f"/review/{product.id}/reject", data={"reason": "not our stock"}).status_code == 302
    product = _fresh(product.id)
    assert product.status == ProductStatus.ARCHIVED and product.archive_reason == "not our stock"
    assert "nothing waiting" in admin_client.get("/review/").get_data(as_text=True)


def test_review_is_for_the_people_who_upload(manager_client, staff_client):
    assert manager_client.get("/review/").status_code == 200
    assert staff_client.get("/review/").status_code == 403


def test_managers_approve_and_the_queue_filters(org, make_user, manager, manager_client, run_jobs, later_phases):
    other = make_user(org, "manager", "second@acme.test")
    mine, = _waiting(org, manager, run_jobs, hint_name="Blue enamel mug")
    theirs, = _waiting(org, other, run_jobs, hint_name="Oak stool")
    page = manager_client.get(f"/review/?uploader={other.id}").get_data(as_text=True)
    assert f'data-product-id="{theirs.id}"' in page and "1 of 1 waiting" in page
    page = manager_client.get("/review/?band=80-100").get_data(as_text=True)
    assert "matches these filters" in page
    page = manager_client.get("/review/?band=0-39&reason=nothing_found").get_data(as_text=True)
    assert "1 of 2 waiting" in page
    page = manager_client.get("/review/?reason=hint_conflict").get_data(as_text=True)
    assert "matches these filters" in page
    page = manager_client.get(f"/review/?product={theirs.id}").get_data(as_text=True)
    assert f'data-product-id="{theirs.id}"' in page and "2 of 2 waiting" in page
    response = manager_client.post(f"/review/{mine.id}/approve?uploader={manager.id}",
                                   data={"name": "Blue enamel mug", "condition": "new"})
    assert response.status_code == 302 and f"uploader={manager.id}" in response.headers["Location"]
    assert _fresh(mine.id).status == ProductStatus.PROCESSING


def test_approval_keeps_only_the_ticked_photo_text(org, manager, manager_client, run_jobs, later_phases):
    from tests.pipeline.helpers import TEXT_PAGE_PHOTO

    product = create_product(org, manager, TEXT_PAGE_PHOTO, hint_name="Desk lamp")
    run_jobs()
    page = manager_client.get("/review/").get_data(as_text=True)
    assert 'name="kept_text" value="Assembly instructions"' in page
    response = manager_client.post(f"/review/{product.id}/approve", data={
        "name": "Desk lamp", "kept_text": ["Assembly instructions", "a line that was never on the photo"]})
    assert response.status_code == 302
    product = _fresh(product.id)
    assert product.kept_text == ["Assembly instructions"]  # a form cannot add text the photo did not have
    assert product.field_sources == {"name": "person"} and product.suggestions is None


def test_board_and_dashboard_card_count_by_status(org, manager, manager_client, run_jobs, later_phases):
    _waiting(org, manager, run_jobs)
    board = manager_client.get("/products/").get_data(as_text=True)
    assert 'data-testid="col-needs_review"' in board and 'data-status="needs_review"' in board
    card = manager_client.get("/dashboard/cards/pipeline").get_data(as_text=True)
    assert 'data-testid="pipeline-review">1<' in card and 'data-testid="pipeline-total">1<' in card
    search = manager_client.get("/products/?q=nothing-like-this").get_data(as_text=True)
    assert 'class="product-card"' not in search


def test_admin_sets_the_threshold_on_a_page_that_shows_the_measurements(org, admin, admin_client, manager_client):
    page = admin_client.get("/products/settings")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="calibration-table"' in text and "90–100" in text
    assert "labelled cases" in text and 'value="80"' in text
    bad = admin_client.post("/products/settings", data={"threshold": "101"})
    assert bad.status_code == 422 and "from 0 to 100" in bad.get_data(as_text=True)
    assert 'value="101"' in bad.get_data(as_text=True)  # the input is kept
    assert admin_client.post("/products/settings", data={"threshold": "90"}).status_code == 302
    db.session.expire_all()
    assert org.review_threshold == 90
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "organisation.review_threshold_set")).one()
    assert entry.before == {"review_threshold": 80} and entry.after == {"review_threshold": 90}
    assert manager_client.get("/products/settings").status_code == 403


def test_start_stop_retry_restart_are_audited_and_attempts_keep_counting(org, manager, manager_client, run_jobs,
                                                                       later_phases):
    product = create_product(org, manager, BLANK_PHOTO, start=False)
    assert manager_client.post(f"/products/{product.id}/start").status_code == 302
    assert manager_client.post(f"/products/{product.id}/stop").status_code == 302
    assert manager_client.post(f"/products/{product.id}/start").status_code == 302
    run_jobs()
    assert manager_client.post(f"/products/{product.id}/restart", data={"phase": "analysis"}).status_code == 302
    run_jobs()
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "product",
                                                                 AuditEntry.object_id == str(product.id))
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["product.uploaded", "product.started", "product.stopped", "product.started", "product.restarted"]
    phase = _fresh(product.id).phase("analysis")
    assert phase.attempts_total == 2 and phase.attempts == 1  # this run's count restarts, the total does not
