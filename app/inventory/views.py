"""Inventory pages: list, item, stock adjustment, category rules, supplier imports."""
from __future__ import annotations

from flask import Blueprint

from app.inventory import import_models, models  # noqa: F401  (tables must be known to every process)

bp = Blueprint("inventory", __name__, url_prefix="/inventory")
