"""Background jobs of tech files: thin, idempotent, given ids."""
from __future__ import annotations

from app.techfiles import collections, packs


def run_collection(collection_id: int) -> None:
    """Generate a collection's missing files (a no-op unless the collection is queued)."""
    collections.collection_run(collection_id=collection_id)


def refresh_pack(org_id: int, product_id: int, revision: str) -> None:
    """Bring a product revision's complete pack up to date (a no-op when it is current or absent)."""
    packs.pack_refresh(org_id=org_id, product_id=product_id, revision=revision)
