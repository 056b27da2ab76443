"""Reads for the account and admin pages: sessions, tokens, invitations, the outbox."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts.models import AccountEmail, AccountLink, ApiToken, LinkKind, UserSecurity, UserSession
from app.core.models import User, utcnow
from app.extensions import db


def active_sessions(user: User) -> list[UserSession]:
    """The user's sessions that still stand, the most recently used first."""
    version = db.session.scalar(select(UserSecurity.session_version).where(UserSecurity.user_id == user.id))
    return list(db.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > utcnow(),
        UserSession.version == version).order_by(UserSession.last_seen_at.desc()).limit(100)))


def user_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id.desc()).limit(200)))


def organisation_tokens(org_id: int) -> list[ApiToken]:
    """Every token of the organisation with its owner, newest first (bounded)."""
    return list(db.session.scalars(select(ApiToken).options(joinedload(ApiToken.user))
                                   .where(ApiToken.organisation_id == org_id)
                                   .order_by(ApiToken.id.desc()).limit(500)))


def open_invitations(org_id: int) -> list[AccountLink]:
    """Invitations not yet accepted, withdrawn or expired."""
    return list(db.session.scalars(select(AccountLink).where(
        AccountLink.organisation_id == org_id, AccountLink.kind == LinkKind.INVITE, AccountLink.used_at.is_(None),
        AccountLink.revoked_at.is_(None), AccountLink.expires_at > utcnow()).order_by(AccountLink.id.desc())))


def outbox(org_id: int, *, recipient: str | None = None, limit: int = 50) -> list[AccountEmail]:
    """The organisation's latest account e-mails (to one address if asked), newest first."""
    query = select(AccountEmail).where(AccountEmail.organisation_id == org_id)
    if recipient:
        query = query.where(AccountEmail.recipient == recipient.lower())
    return list(db.session.scalars(query.order_by(AccountEmail.id.desc()).limit(limit)))
