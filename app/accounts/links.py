"""Links sent by e-mail: invitations (the invitee sets their own password) and password resets.

Both expire and work once: the link's row is marked used by an UPDATE guarded on `used_at IS NULL`
in the same transaction as what the link does, so two clicks racing cannot both succeed. A reset
request gets the same answer whether the address has an account or not.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from app.accounts.mail import external_url, mail_queue
from app.accounts.models import AccountLink, LinkKind
from app.accounts.passwords import check_password
from app.accounts.sessions import digest, security_for, sessions_end_all
from app.core import audit
from app.core.auth import hash_password
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.models import Organisation, Role, User, user_id_of, utcnow
from app.core.users import EMAIL_RE, parse_role, user_create
from app.extensions import db

GONE = "This link is not valid any more: it was used, replaced or has expired. Ask for a new one."


def _email_taken(email: str) -> bool:
    return bool(db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())))


def _revoke_open(*, kind: LinkKind, org_id: int, email: str) -> None:
    db.session.execute(update(AccountLink).where(
        AccountLink.kind == kind, AccountLink.organisation_id == org_id, func.lower(AccountLink.email) == email,
        AccountLink.used_at.is_(None), AccountLink.revoked_at.is_(None)).values(revoked_at=utcnow()))


def invitation_create(*, org_id: int, email: str, name: str, role: str | Role, by: User) -> tuple[AccountLink, str]:
    """Invite a person by e-mail; an earlier open invitation to the same address is replaced.
    Returns the invitation and its link."""
    email = (email or "").strip().lower()
    if not EMAIL_RE.fullmatch(email) or len(email) > 254:
        raise InvalidInput("Enter a valid e-mail address.", field="email")
    role = parse_role(role)
    if _email_taken(email):
        raise Conflict(f"A user with the e-mail {email} already exists.", field="email")
    _revoke_open(kind=LinkKind.INVITE, org_id=org_id, email=email)
    token = secrets.token_urlsafe(32)
    link = AccountLink(organisation_id=org_id, kind=LinkKind.INVITE, token_hash=digest(token), email=email,
                       name=(name or "").strip()[:120], role=role, created_by_id=user_id_of(by),
                       expires_at=utcnow() + timedelta(days=current_app.config["ACCOUNT_INVITE_DAYS"]))
    db.session.add(link)
    db.session.flush()
    url = external_url("links.invite_accept", token=token)
    org = db.session.get(Organisation, org_id)
    mail_queue(org_id=org_id, recipient=email, subject=f"You are invited to {org.name} on Stockroom",
               body=f"{by.display_name} invited you to join {org.name} on Stockroom as {role.label.lower()}.\n\n"
                    f"Choose your password here (the link works once, for "
                    f"{current_app.config['ACCOUNT_INVITE_DAYS']} days):\n{url}\n")
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="user.invite", object_type="invitation",
                 object_id=link.id, after={"email": email, "role": role.value})
    db.session.commit()
    return link, url


def invitation_revoke(*, org_id: int, invitation_id: int, by: User) -> None:
    """Withdraw an open invitation: its link stops working."""
    done = db.session.execute(update(AccountLink).where(
        AccountLink.id == invitation_id, AccountLink.organisation_id == org_id, AccountLink.kind == LinkKind.INVITE,
        AccountLink.used_at.is_(None), AccountLink.revoked_at.is_(None)).values(revoked_at=utcnow())).rowcount
    if not done:
        db.session.rollback()
        raise NotFound("There is no open invitation with that number in your organisation.")
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="user.invite_revoke", object_type="invitation",
                 object_id=invitation_id)
    db.session.commit()


def link_find(kind: LinkKind, token: str) -> AccountLink | None:
    """The usable link of this kind with this token, else None."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(select(AccountLink).where(AccountLink.token_hash == digest(token),
                                                       AccountLink.kind == kind))
    return link if link is not None and link.usable(utcnow()) else None


def _use(link: AccountLink) -> None:
    used = db.session.execute(update(AccountLink).where(AccountLink.id == link.id, AccountLink.used_at.is_(None),
                                                        AccountLink.revoked_at.is_(None))
                              .values(used_at=utcnow())).rowcount
    if used != 1:
        db.session.rollback()
        raise NotFound(GONE)


def invitation_accept(*, token: str, name: str, password: str) -> User:
    """Create the invited user with the password they chose; the link is used up in the same commit."""
    link = link_find(LinkKind.INVITE, token)
    if link is None:
        raise NotFound(GONE)
    try:
        check_password(password, user_inputs=(link.email, name))
        _use(link)
        audit.record(org_id=link.organisation_id, actor_id=None, action="user.invite_accept",
                     object_type="invitation", object_id=link.id, after={"email": link.email})
        user = user_create(org_id=link.organisation_id, email=link.email, password=password, role=link.role,
                           name=(name or link.name).strip()[:120], by=link.created_by)
    except Exception:
        db.session.rollback()
        raise
    return user


def reset_request(*, email: str) -> None:
    """Mail a reset link when an active account has this address; the caller answers the same either way."""
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email, User.active.is_(True))) \
        if EMAIL_RE.fullmatch(email) else None
    if user is None:
        return
    _revoke_open(kind=LinkKind.RESET, org_id=user.organisation_id, email=email)
    token = secrets.token_urlsafe(32)
    minutes = current_app.config["ACCOUNT_RESET_MINUTES"]
    db.session.add(AccountLink(organisation_id=user.organisation_id, kind=LinkKind.RESET, token_hash=digest(token),
                               email=email, user_id=user.id, expires_at=utcnow() + timedelta(minutes=minutes)))
    url = external_url("links.reset", token=token)
    mail_queue(org_id=user.organisation_id, recipient=email, subject="Reset your Stockroom password",
               body=f"Someone (we hope you) asked to reset the password of {email} on Stockroom.\n\n"
                    f"Choose a new password here (the link works once, for {minutes} minutes):\n{url}\n\n"
                    "If it was not you, ignore this message: your password stays as it is.\n")
    audit.record(org_id=user.organisation_id, actor_id=None, action="user.password_reset_request",
                 object_type="user", object_id=user.id)
    db.session.commit()


def reset_complete(*, token: str, password: str) -> User:
    """Set the new password from a reset link; every session of the account ends."""
    link = link_find(LinkKind.RESET, token)
    user = db.session.get(User, link.user_id) if link is not None else None
    if user is None or not user.active:
        raise NotFound(GONE)
    check_password(password, user_inputs=(user.email, user.name))
    _use(link)
    user.password_hash = hash_password(password)
    security_for(user).password_changed_at = utcnow()
    sessions_end_all(user=user)
    audit.record(org_id=user.organisation_id, actor_id=user.id, action="user.password_reset", object_type="user",
                 object_id=user.id)
    db.session.commit()
    return user
