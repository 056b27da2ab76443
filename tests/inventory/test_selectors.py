"""What other domains read: the catalogue for matching, the category rules, items by SKU."""
from __future__ import annotations

from app.analysis.matching import CatalogueEntry
from app.inventory import rules, selectors
from app.inventory.category_rules import DEFAULT_RULES
from tests.inventory.factories import make_item


def test_catalogue_entries_are_the_organisations_items(org, other_org):
    item = make_item(org, sku="CH-1", title="Rolo chain", gtin="4006381333931", brand="Acme", model="R-45",
                     category_path="Chains › Necklace Chains")
    make_item(other_org, sku="THEIRS", title="Not ours")
    assert selectors.catalogue_entries(org.id) == [
        CatalogueEntry(key=f"item:{item.id}", name="Rolo chain", sku="CH-1", brand="Acme", gtin="4006381333931",
                       category="Chains › Necklace Chains", model="R-45")]


def test_category_rules_are_the_defaults_until_the_organisation_has_its_own(org, manager):
    assert selectors.category_rules(org.id) == sorted(DEFAULT_RULES, key=lambda r: -r["priority"])
    stored = rules.rules_ensure(org_id=org.id)
    rules.rule_save(org_id=org.id, rule_id=stored[0].id, path=stored[0].path, keywords="bag charm, tote",
                    priority=95, by=manager)
    first = selectors.category_rules(org.id)[0]
    assert first == {"path": "Accessories › Bag Accessories", "keywords": ["bag charm", "tote"], "priority": 95}


def test_the_last_rule_cannot_be_deleted(org, manager):
    import pytest

    from app.core.errors import Conflict

    stored = rules.rules_ensure(org_id=org.id)
    for rule in stored[:-1]:
        rules.rule_delete(org_id=org.id, rule_id=rule.id, by=manager)
    with pytest.raises(Conflict, match="Keep at least one rule"):
        rules.rule_delete(org_id=org.id, rule_id=stored[-1].id, by=manager)


def test_item_by_sku(org, other_org):
    item = make_item(org, sku="ABC-1")
    make_item(other_org, sku="ABC-2")
    assert selectors.item_by_sku(org.id, " ABC-1 ").id == item.id
    assert selectors.item_by_sku(org.id, "ABC-2") is None
