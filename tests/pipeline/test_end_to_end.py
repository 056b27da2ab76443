"""Done-when: a barcode photo whose GTIN is in the inventory passes all four phases with no person."""
from app.extensions import db
from app.pipeline.models import PhaseStatus, Product, ProductStatus
from tests.pipeline.helpers import EAN, EAN_PHOTO, catalogue_item, create_product


def test_catalogue_barcode_goes_through_every_installed_phase(org, manager, run_jobs):
    catalogue_item(org)
    product = create_product(org, manager, EAN_PHOTO)
    run_jobs()
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.status == ProductStatus.COMPLETED, [(p.name, p.status, p.error) for p in product.phases]
    assert all(p.status in (PhaseStatus.COMPLETED, PhaseStatus.SKIPPED) for p in product.phases)
    assert product.confidence >= 95 and product.gtin == EAN and product.reviewed_by_id is None
