"""Signed-in sessions kept on the server, so that signing out really ends them.

The session cookie holds a random key; the `user_sessions` row it names must exist, be unrevoked,
unexpired, carry the user's current session version and belong to an active user, on every
request. Signing out revokes the row (a copied cookie stops working at once); a password change,
a role change, a deactivation and "sign out everywhere" bump the user's version, which ends every
session issued before (the browser that changed its own password is re-issued the new version).
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app, g, request, session
from flask_login import current_user
from sqlalchemy import delete, or_, select, update

from app.accounts.models import UserSecurity, UserSession
from app.core.models import User, utcnow
from app.extensions import db

SESSION_KEY = "_sk"
TOUCH_EVERY = timedelta(minutes=1)
KEEP_ENDED = timedelta(days=30)


def digest(value: str) -> str:
    """SHA-256 hex of a random secret (session keys, link tokens, recovery codes, API tokens)."""
    return hashlib.sha256(value.encode()).hexdigest()


def security_for(user: User) -> UserSecurity:
    """The user's security row, created (uncommitted) on first use."""
    row = db.session.get(UserSecurity, user.id)
    if row is None:
        row = UserSecurity(user_id=user.id, organisation_id=user.organisation_id, session_version=1)
        db.session.add(row)
        db.session.flush()
    return row


def _lifetime(persistent: bool) -> timedelta:
    if persistent:
        return timedelta(days=current_app.config["ACCOUNT_REMEMBER_DAYS"])
    return timedelta(hours=current_app.config["ACCOUNT_SESSION_HOURS"])


def session_start(*, user: User, persistent: bool, two_factor: bool) -> str:
    """Record a new session for this browser (does not commit); returns the key for the cookie."""
    version = security_for(user).session_version
    key = secrets.token_urlsafe(32)
    now = utcnow()
    # Ended sessions are kept a while for the account page's history, then dropped here.
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.expires_at < now - KEEP_ENDED, UserSession.revoked_at < now - KEEP_ENDED)))
    db.session.add(UserSession(
        organisation_id=user.organisation_id, user_id=user.id, key_hash=digest(key), version=version,
        created_at=now, last_seen_at=now, expires_at=now + _lifetime(persistent), persistent=persistent,
        two_factor=two_factor, ip=(request.remote_addr or "")[:64],
        user_agent=(request.user_agent.string or "")[:300]))
    return key


def session_end(key: str | None) -> None:
    """Revoke the session with this key (sign-out of one browser; does not commit)."""
    if key:
        db.session.execute(update(UserSession).where(UserSession.key_hash == digest(key),
                                                     UserSession.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))


def sessions_end_all(*, user: User, keep_key: str | None = None) -> int:
    """Bump the user's session version: every session ends, except the one keeping `keep_key`
    (re-issued at the new version). Does not commit; returns the new version."""
    security = security_for(user)
    security.session_version += 1
    keep = digest(keep_key) if keep_key else None
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
                                                 UserSession.key_hash != (keep or ""))
                       .values(revoked_at=utcnow()))
    if keep:
        db.session.execute(update(UserSession).where(UserSession.key_hash == keep)
                           .values(version=security.session_version))
    return security.session_version


def session_revoke(*, user: User, session_id: int) -> bool:
    """Sign out one of the user's own sessions (does not commit); False when it is not theirs."""
    result = db.session.execute(update(UserSession).where(
        UserSession.id == session_id, UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow()))
    return result.rowcount == 1


def _valid(row: UserSession, version: int, user: User, now: datetime) -> bool:
    return row.revoked_at is None and row.expires_at > now and row.version == version and user.active


def load_session_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user only while their session row is valid."""
    key = session.get(SESSION_KEY)
    if not key:
        return None
    found = db.session.execute(
        select(UserSession, UserSecurity.session_version, User)
        .join(UserSecurity, UserSecurity.user_id == UserSession.user_id)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.key_hash == digest(key))).first()
    if found is None or str(found[2].id) != str(user_id):
        return None
    row, version, user = found
    if not _valid(row, version, user, utcnow()):
        return None
    g.account_session = row
    return user


def session_touch() -> None:
    """Slide the current session's expiry and note when it was last seen (at most once a minute)."""
    row = g.get("account_session")
    now = utcnow()
    if row is None or now - row.last_seen_at < TOUCH_EVERY:
        return
    db.session.execute(update(UserSession).where(UserSession.id == row.id)
                       .values(last_seen_at=now, expires_at=now + _lifetime(row.persistent)))
    db.session.commit()


def session_checker() -> Callable[[], bool]:
    """For a long-lived response (the event stream): a callable that says whether this request's
    session still stands — not signed out, not expired, no version bump, the user active.

    It runs outside the request, on its own short connection, so the stream holds no database
    session between checks."""
    key, user_id, engine = session.get(SESSION_KEY), current_user.get_id(), db.engine
    query = (select(UserSession.user_id, UserSession.revoked_at, UserSession.expires_at, UserSession.version,
                    UserSecurity.session_version, User.active)
             .join(UserSecurity, UserSecurity.user_id == UserSession.user_id)
             .join(User, User.id == UserSession.user_id)
             .where(UserSession.key_hash == digest(key or "")))

    def still_signed_in() -> bool:
        if not key:
            return False
        with engine.connect() as conn:
            found = conn.execute(query).first()
        return (found is not None and str(found.user_id) == str(user_id) and found.revoked_at is None
                and found.version == found.session_version and bool(found.active)
                and found.expires_at > utcnow())

    return still_signed_in


def sign_in_browser(user: User, *, remember: bool, two_factor: bool) -> None:
    """Sign this browser in with a fresh session (never one prepared by someone else). Commits."""
    from flask_login import login_user

    from app.core.users import user_record_login

    session.clear()
    key = session_start(user=user, persistent=remember, two_factor=two_factor)
    login_user(user, remember=False)
    session[SESSION_KEY] = key
    session.permanent = remember
    user_record_login(user)
