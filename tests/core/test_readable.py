"""Stored JSON as labelled fields: the audit log's changes and the product page's phase results."""
from __future__ import annotations

import re

from app.core import audit, readable
from app.extensions import db


def test_fields_are_labelled_and_nested_objects_flattened():
    data = {"unit_cost": "1.20", "category": {"path": "Chains › Bracelet Chains", "rule": {"keyword": "chain"}},
            "tags": ["gold", "steel"], "reviewed": False, "note": None}
    assert readable.flat_fields(data) == {
        "Unit cost": "1.20", "Category › Path": "Chains › Bracelet Chains", "Category › Rule › Keyword": "chain",
        "Tags": "gold, steel", "Reviewed": "no", "Note": "—"}
    assert readable.pretty_json(data).count("›") == 1 and "\\u203a" not in readable.pretty_json(data)


def test_changes_mark_only_what_changed():
    rows = readable.field_changes({"price": "9.00", "title": "Ring"}, {"price": "9.90", "title": "Ring", "sku": "R-1"})
    assert rows == [("Price", "9.00", "9.90", True), ("Title", "Ring", "Ring", False), ("Sku", None, "R-1", True)]


def test_audit_log_shows_a_readable_diff_with_the_raw_json_behind_a_toggle(org, admin, admin_client):
    entry = audit.record(org_id=org.id, actor_id=admin.id, action="inventory.update", object_type="inventory_item",
                         object_id=1, before={"category": "Chains › Bracelet Chains", "price": "9.00"},
                         after={"category": "Chains › Bracelet Chains", "price": "9.90"})
    db.session.commit()
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    cell = page[page.index(f'data-testid="audit-change-{entry.id}"'):]
    cell = cell[:cell.index("</details>")]
    assert "\\u203a" not in page and "Chains › Bracelet Chains" in cell
    assert re.search(r'<tr class="changed"><th>Price</th>\s*<td>9.00</td>\s*<td><mark>9.90</mark>', cell)
    assert '<tr><th>Category</th>' in cell  # unchanged: not highlighted
    assert "<summary>raw</summary>" in cell


def test_phase_results_are_fields_on_the_product_page(org, manager, manager_client):
    import io

    from app.pipeline import services as pipeline
    from app.pipeline.models import ProductPhase
    from tests.conftest import FIXTURES

    photo = (FIXTURES / "pipeline" / "no-barcode-no-text.webp").read_bytes()
    product = pipeline.product_create(org_id=org.id, by=manager, files=[("p.webp", io.BytesIO(photo))],
                                      start=False).product
    phase = db.session.query(ProductPhase).filter_by(product_id=product.id, name="analysis").one()
    phase.result = {"formula": "see the identification rules", "category_path": "Charms › Pendants"}
    db.session.commit()
    page = manager_client.get(f"/products/{product.id}").get_data(as_text=True)
    assert 'data-testid="phase-fields-analysis"' in page
    assert "<dt>Formula</dt><dd>see the identification rules</dd>" in page and "\\u203a" not in page
