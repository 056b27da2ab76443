"""Statuses of listings (see app.core.statuses)."""
from __future__ import annotations

from app.core.statuses import StatusEnum, define


class ListingStatus(StatusEnum):
    DRAFT = "draft"  # something a marketplace needs is missing (see Listing.missing)
    READY = "ready"


# A listing is rebuilt whenever its product changes, in either direction.
define(ListingStatus, moves={ListingStatus.DRAFT: {ListingStatus.DRAFT, ListingStatus.READY},
                             ListingStatus.READY: {ListingStatus.DRAFT, ListingStatus.READY}})
