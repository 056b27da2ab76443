"""Nothing charged twice: an unchanged product's second collection reuses every file at no charge;
"regenerate" makes a new version and charges; a changed input makes only what it changes."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.techfiles import collections, selectors, services
from app.techfiles.models import Collection, CollectionStatus, FileStatus, FileType, TechFile
from tests.techfiles.helpers import make_product


def _charged(product_id: int) -> Decimal:
    return Decimal(db.session.scalar(select(func.coalesce(func.sum(TechFile.credits), 0)).where(
        TechFile.product_id == product_id)))


def _run(org, manager, run_jobs, product, **kwargs) -> Collection:
    c = collections.collection_start(org_id=org.id, product_id=product.id, by=manager, **kwargs)
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.COMPLETED, c.error
    return c


def test_two_collections_of_an_unchanged_product_cost_credits_once(app, org, manager, run_jobs, manager_client):
    product = make_product(org, manager)
    first = _run(org, manager, run_jobs, product, name="Winter 2025 line")
    paid = _charged(product.id)
    assert paid == selectors.collection_credits(first.id) > 0
    assert not any(i.reused for i in first.items)
    files_before = db.session.scalar(select(func.count(TechFile.id)))

    second = _run(org, manager, run_jobs, product, name="Spring 2026 line")
    assert _charged(product.id) == paid  # nothing charged again
    assert selectors.collection_credits(second.id) == 0
    assert db.session.scalar(select(func.count(TechFile.id))) == files_before  # no new versions either
    assert all(i.reused for i in second.items) and len(second.items) == len(first.items)
    assert {i.tech_file_id for i in second.items} == {i.tech_file_id for i in first.items}
    assert "reused" in second.current_step
    page = manager_client.get(f"/techfiles/collections/{second.id}").get_data(as_text=True)
    assert "Spring 2026 line" in page and "reused, 0 credits" in page
    assert 'data-testid="collection-credits">0<' in page


def test_regenerate_forces_a_new_version_and_charges(app, org, manager, run_jobs):
    product = make_product(org, manager, photos=("label.webp",))
    first = _run(org, manager, run_jobs, product, kind="base_views")
    front = first.items[0].tech_file
    paid = _charged(product.id)
    again = services.file_regenerate(org_id=org.id, file_id=front.id, by=manager)
    assert again.version == 2 and again.credits == Decimal("1.00") and again.fingerprint == front.fingerprint
    assert _charged(product.id) == paid + 1
    # A collection that forces regeneration charges for everything it makes.
    forced = _run(org, manager, run_jobs, product, kind="base_views", force=True)
    assert not any(i.reused for i in forced.items) and selectors.collection_credits(forced.id) == Decimal("1.00")
    # And a plain one after it reuses the forced file.
    plain = _run(org, manager, run_jobs, product, kind="base_views")
    assert plain.items[0].reused and plain.items[0].tech_file_id == forced.items[0].tech_file_id


def test_a_changed_input_makes_only_what_it_changes(app, org, manager, run_jobs):
    product = make_product(org, manager, photos=("label.webp",))
    _run(org, manager, run_jobs, product, sections=["base_views", "close_ups"])
    front = db.session.scalar(select(TechFile).where(TechFile.product_id == product.id, TechFile.is_latest,
                                                     TechFile.file_type == FileType.BASE_VIEW))
    services.file_regenerate(org_id=org.id, file_id=front.id, by=manager, params={"margin": "0.2"})
    paid = _charged(product.id)
    # The base view now has other parameters than a run would use: the run makes it again; close-ups are reused.
    c = _run(org, manager, run_jobs, product, sections=["base_views", "close_ups"])
    made = {i.tech_file.file_type for i in c.items if not i.reused}
    assert made == {FileType.BASE_VIEW} and _charged(product.id) == paid + 1


def test_statuses_processing_completed_failed_archived(app, org, manager, run_jobs, monkeypatch):
    product = make_product(org, manager, photos=("label.webp",))
    product_id, seen = product.id, {}
    from app.techfiles import units

    real = units.render

    def watching(step, ctx, photo, planned, params=None):
        # While a unit is being made its files are there, processing, not yet latest.
        rows = db.session.scalars(select(TechFile).where(TechFile.product_id == product_id,
                                                         TechFile.file_type == planned[0].file_type)).all()
        seen[step] = {(f.status, f.is_latest) for f in rows}
        if step == "sketches":
            raise RuntimeError("the pen ran dry")
        return real(step, ctx, photo, planned, params)

    monkeypatch.setattr(units, "render", watching)
    c = collections.collection_start(org_id=org.id, product_id=product.id, by=manager,
                                     sections=["base_views", "sketches"])
    run_jobs()
    db.session.refresh(c)
    assert seen["base_views"] == {(FileStatus.PROCESSING, False)}
    assert c.status == CollectionStatus.FAILED and "the pen ran dry" in c.error
    sketch = next(i.tech_file for i in c.items if i.section == "sketches")
    assert sketch.status == FileStatus.FAILED and "the pen ran dry" in sketch.error
    base = next(i.tech_file for i in c.items if i.section == "base_views")
    assert base.status == FileStatus.COMPLETED and base.is_latest
    # A failed file can be put away; a completed one too; a processing one cannot.
    services.file_archive(org_id=org.id, file_id=sketch.id, by=manager)
    db.session.refresh(sketch)
    assert sketch.status == FileStatus.ARCHIVED
    monkeypatch.setattr(units, "render", real)
    collections.collection_retry(org_id=org.id, collection_id=c.id, by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.COMPLETED
    new_sketch = [i.tech_file for i in c.items if i.section == "sketches"][-1]
    assert new_sketch.status == FileStatus.COMPLETED and new_sketch.is_latest and new_sketch.id != sketch.id
