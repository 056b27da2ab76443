"""An attention item of another organisation for the cross-organisation route walk."""
from __future__ import annotations

from tests.attention.helpers import product_in_review
from tests.tenancy_rows import factory


@factory
def attention_rows(org, user) -> dict:
    return {"item_key": f"product_review.{product_in_review(org, title='Their product').id}"}
