"""Reads other domains use: the catalogue for matching, the category rules, items by SKU."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.analysis.matching import CatalogueEntry
from app.extensions import db
from app.inventory.category_rules import default_rule_dicts
from app.inventory.models import CategoryRule, Item


def catalogue_entries(org_id: int) -> list[CatalogueEntry]:
    """Every item of the organisation as the matcher sees it (key "item:<id>")."""
    rows = db.session.scalars(select(Item).options(joinedload(Item.category))
                              .where(Item.organisation_id == org_id).order_by(Item.id))
    return [CatalogueEntry(key=f"item:{i.id}", name=i.title, sku=i.sku, brand=i.brand, gtin=i.gtin,
                           category=i.category_path, model=i.model) for i in rows]


def category_rules(org_id: int) -> list[dict]:
    """The organisation's rules as {path, keywords, priority}; the defaults until it has its own."""
    rows = db.session.scalars(select(CategoryRule).where(CategoryRule.organisation_id == org_id)
                              .order_by(CategoryRule.priority.desc(), CategoryRule.id)).all()
    return [r.to_dict() for r in rows] if rows else default_rule_dicts()


def item_by_sku(org_id: int, sku: str) -> Item | None:
    """The organisation's item with this SKU (exact match), or None."""
    return db.session.scalar(select(Item).where(Item.organisation_id == org_id, Item.sku == sku.strip()))
