"""Sharing a pack with a factory: expiring, revocable, read-only links that need no login.

The token is 32 random bytes; the database keeps only its SHA-256, and the address carries the
token signed with the app's secret (itsdangerous), so a made-up or altered address is refused
before the database is asked. A link shows one product revision's latest files and complete
pack — or only one collection's files — and nothing else. Every open is logged (time, address).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, Signer
from sqlalchemy import select

from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.events import publish_after_commit
from app.core.models import user_id_of, utcnow
from app.extensions import db
from app.techfiles.models import Collection, ShareLink, ShareOpen
from app.techfiles.versions import load_product

SHARE_EVENT = "techfiles-share-opened"
SALT = "techfiles-share-link"


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=SALT)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class NewLink:
    link: ShareLink
    token: str  # signed; shown once, never stored


def _max_days() -> int:
    return int(current_app.config.get("TECHFILES_SHARE_MAX_DAYS") or 90)


def share_create(*, org_id: int, product_id: int, label: str, days, collection_id: int | None = None,
                 revision: str | None = None, by) -> NewLink:
    """A new link to a product revision's pack (or to one collection of it), valid for `days` days."""
    product = load_product(org_id, product_id)
    label = (label or "").strip()[:120]
    if not label:
        raise InvalidInput("Say who the link is for, such as the factory's name.", field="label")
    try:
        days = int(str(days).strip())
    except (TypeError, ValueError):
        raise InvalidInput("Give the number of days the link works.", field="days") from None
    if not 1 <= days <= _max_days():
        raise InvalidInput(f"A link works for 1 to {_max_days()} days.", field="days")
    collection = None
    if collection_id:
        collection = db.session.get(Collection, int(collection_id))
        if collection is None or collection.organisation_id != org_id or collection.product_id != product.id:
            raise InvalidInput("Choose one of this product's collections.", field="collection_id")
    raw = secrets.token_urlsafe(32)
    link = ShareLink(organisation_id=org_id, product_id=product.id, collection_id=collection.id if collection else None,
                     revision=collection.revision if collection else (revision or "1").strip()[:40] or "1",
                     token_hash=_hash(raw), label=label, expires_at=utcnow() + timedelta(days=days),
                     created_by_id=user_id_of(by))
    db.session.add(link)
    db.session.flush()
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="techfiles.share_create", object_type="tech_share_link",
                 object_id=link.id, after={"label": label, "days": days, "collection_id": link.collection_id,
                                           "revision": link.revision})
    db.session.commit()
    return NewLink(link, _signer().sign(raw).decode("ascii"))


def share_revoke(*, org_id: int, link_id: int, by) -> ShareLink:
    """Stop a link working, at once and for good."""
    link = db.session.get(ShareLink, link_id)
    if link is None or link.organisation_id != org_id:
        raise NotFound("There is no such link in your organisation.")
    if link.revoked_at is not None:
        raise Conflict("That link is already revoked.")
    link.revoked_at, link.revoked_by_id = utcnow(), user_id_of(by)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="techfiles.share_revoke",
                 object_type="tech_share_link", object_id=link.id, after={"revoked": True})
    db.session.commit()
    return link


def share_resolve(token: str) -> ShareLink:
    """The link a token opens: NotFound when forged, unknown, expired or revoked (all look the same)."""
    try:
        raw = _signer().unsign(token.encode("ascii")).decode("ascii")
    except (BadSignature, UnicodeError, ValueError):
        raise NotFound("This link does not work.") from None
    link = db.session.scalar(select(ShareLink).where(ShareLink.token_hash == _hash(raw)))
    if link is None or link.state != "active":
        raise NotFound("This link does not work.")
    return link


def share_open_log(*, link_id: int, address: str | None, what: str, user_agent: str | None) -> None:
    """Record one open of a link (and tell the organisation's pages)."""
    link = db.session.get(ShareLink, link_id)
    db.session.add(ShareOpen(organisation_id=link.organisation_id, link_id=link.id, opened_at=utcnow(),
                             address=(address or "")[:64] or None, what=what[:20],
                             user_agent=(user_agent or "")[:200] or None))
    publish_after_commit(link.organisation_id, SHARE_EVENT, {"link_id": link.id, "product_id": link.product_id})
    db.session.commit()
