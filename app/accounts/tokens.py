"""Personal API tokens: created on the account page, shown once, stored hashed, scoped per capability
(read or write), expiring and revocable by their owner or an admin.

A token never grants more than its owner's role allows *now*: a scope is checked against the role
at every request, so demoting a person narrows their tokens at once.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.accounts.models import ApiToken
from app.accounts.sessions import digest
from app.core import audit
from app.core.errors import InvalidInput, NotFound
from app.core.models import Role, User, utcnow
from app.extensions import db

TOKEN_PREFIX = "srk_"
# capability -> action -> roles allowed (admins always), the same rules as the pages.
CAPABILITIES: dict[str, dict[str, tuple[Role, ...]]] = {
    "products": {"read": (Role.MANAGER, Role.STAFF), "write": (Role.MANAGER,)},
    "inventory": {"read": (Role.MANAGER, Role.STAFF), "write": (Role.MANAGER,)},
    "orders": {"read": (Role.MANAGER, Role.STAFF), "write": (Role.MANAGER, Role.STAFF)},
    "batches": {"read": (Role.MANAGER,), "write": (Role.MANAGER,)},
    # Everyone has a to-do list; which kinds of item a person sees is the queue's own rule.
    "attention": {"read": (Role.MANAGER, Role.STAFF), "write": (Role.MANAGER, Role.STAFF)},
}
CAPABILITY_LABELS = {"products": "Products (intake pipeline)", "inventory": "Inventory and stock",
                     "orders": "Orders", "batches": "CSV batches", "attention": "To-do items (attention queue)"}
ALL_SCOPES = tuple(f"{cap}:{action}" for cap, actions in CAPABILITIES.items() for action in actions)


def role_allows(user: User, scope: str) -> bool:
    """Whether the user's current role may use this scope."""
    capability, _, action = scope.partition(":")
    roles = CAPABILITIES.get(capability, {}).get(action)
    return roles is not None and user.has_role(*roles)


def scopes_for(user: User) -> list[str]:
    """The scopes this user's role can give a token."""
    return [s for s in ALL_SCOPES if role_allows(user, s)]


def _clean_scopes(user: User, scopes) -> list[str]:
    chosen = sorted({str(s) for s in scopes or []})
    unknown = [s for s in chosen if s not in ALL_SCOPES]
    if unknown:
        raise InvalidInput(f"Unknown scope {unknown[0]!r}.", field="scopes")
    refused = [s for s in chosen if not role_allows(user, s)]
    if refused:
        raise InvalidInput(f"Your role cannot give a token {refused[0]!r}.", field="scopes")
    if not chosen:
        raise InvalidInput("Choose at least one thing the token may do.", field="scopes")
    return chosen


def token_create(*, user: User, name: str, scopes, expires_days: int) -> tuple[ApiToken, str]:
    """Create a token; returns it and its secret (shown once, only its hash is kept). Commits."""
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise InvalidInput("Name the token (up to 80 characters), e.g. 'shop sync'.", field="name")
    chosen = _clean_scopes(user, scopes)
    longest = current_app.config["API_TOKEN_MAX_DAYS"]
    if isinstance(expires_days, bool) or not isinstance(expires_days, int) or not 1 <= expires_days <= longest:
        raise InvalidInput(f"A token lasts from 1 to {longest} days.", field="expires_days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(organisation_id=user.organisation_id, user_id=user.id, name=name, prefix=secret[:12],
                     token_hash=digest(secret), scopes=chosen,
                     expires_at=utcnow() + timedelta(days=expires_days))
    db.session.add(token)
    db.session.flush()
    audit.record(org_id=user.organisation_id, actor_id=user.id, action="api_token.create", object_type="api_token",
                 object_id=token.id, after={"name": name, "scopes": chosen, "expires_at": token.expires_at.isoformat()})
    db.session.commit()
    return token, secret


def token_revoke(*, token_id: int, by: User, as_admin: bool = False) -> ApiToken:
    """Revoke one's own token, or (as an admin) any token of the organisation. Commits."""
    token = db.session.get(ApiToken, token_id)
    mine = token is not None and token.user_id == by.id
    theirs = token is not None and as_admin and by.role == Role.ADMIN and token.organisation_id == by.organisation_id
    if not (mine or theirs):
        raise NotFound("There is no such token.")
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by_id = utcnow(), by.id
        audit.record(org_id=token.organisation_id, actor_id=by.id, action="api_token.revoke",
                     object_type="api_token", object_id=token.id, after={"name": token.name, "owner": token.user_id})
    db.session.commit()
    return token


def token_lookup(secret: str) -> ApiToken | None:
    """The token with this secret (any state), else None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))


def token_touch(token: ApiToken, ip: str | None, now: datetime) -> None:
    """Note the token's last use (at most once a minute per token). Commits."""
    if token.last_used_at is not None and now - token.last_used_at < timedelta(minutes=1):
        return
    db.session.execute(update(ApiToken).where(ApiToken.id == token.id)
                       .values(last_used_at=now, last_used_ip=(ip or "")[:64]))
    db.session.commit()
