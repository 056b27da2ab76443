"""Background jobs of tech files: thin, idempotent, given ids."""
from __future__ import annotations

from app.techfiles import collections


def run_collection(collection_id: int) -> None:
    """Generate a collection's missing files (a no-op unless the collection is queued)."""
    collections.collection_run(collection_id=collection_id)
