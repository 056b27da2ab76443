"""Fair ordering: a big upload by one manager does not starve another manager's single item."""
from __future__ import annotations

from app.core.models import Role
from app.extensions import db
from app.pipeline.models import Product, ProductStatus
from tests.pipeline.helpers import BLANK_PHOTO, create_product


def test_a_single_item_overtakes_a_big_upload(app, org, manager, make_user, run_jobs, later_phases):
    app.config["PIPELINE_FAIR_SHARE"] = 2
    app.config["PIPELINE_JOB_SECONDS"] = 0  # one product per job: the order is seen job by job
    org.review_threshold = 0
    db.session.commit()
    other = make_user(org, Role.MANAGER, "other@acme.test")
    batch = [create_product(org, manager, BLANK_PHOTO) for _ in range(6)]
    single = create_product(org, other, BLANK_PHOTO)
    assert [p.queue for p in batch] == ["default", "default", "low", "low", "low", "low"]
    assert single.queue == "default" and single.fair_rank == 0
    # Workers take "default" before "low": the single item finishes before the bulk of the batch starts.
    run_jobs(max_jobs=3)  # one job each (its horse runs all four phases) for the batch's first two and the single item
    db.session.expire_all()
    assert db.session.get(Product, single.id).status == ProductStatus.COMPLETED
    assert [db.session.get(Product, p.id).status for p in batch[2:]] == [ProductStatus.PROCESSING] * 4
    run_jobs()
    db.session.expire_all()
    assert all(db.session.get(Product, p.id).status == ProductStatus.COMPLETED for p in batch)


def test_rank_counts_only_products_still_in_flight(app, org, manager, run_jobs, later_phases):
    app.config["PIPELINE_FAIR_SHARE"] = 1
    org.review_threshold = 0
    db.session.commit()
    first = create_product(org, manager, BLANK_PHOTO)
    assert first.queue == "default"
    run_jobs()
    assert create_product(org, manager, BLANK_PHOTO).queue == "default"
