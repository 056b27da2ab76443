"""Organisations and users: creation, roles, deactivation (services own the transaction)."""
from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select

from app.core import audit
from app.core.auth import hash_password
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.models import Organisation, Role, User, utcnow
from app.extensions import db

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def organisation_get_or_create(name: str) -> Organisation:
    """The organisation with this name, created (uncommitted) when missing."""
    name = name.strip()
    if not name:
        raise InvalidInput("An organisation needs a name.", field="org")
    org = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        org = Organisation(name=name)
        db.session.add(org)
        db.session.flush()
    return org


def _check_password(password: str, *, email: str, name: str) -> None:
    from app.accounts.passwords import check_password

    check_password(password, user_inputs=(email, name))


def _end_sessions(user: User) -> None:
    # Every session of the user ends at once (their role or access changed).
    from app.accounts.sessions import sessions_end_all

    sessions_end_all(user=user)


def parse_role(role: str | Role) -> Role:
    """A Role from its value, or InvalidInput naming the field."""
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"Unknown role {role!r}: use admin, manager or staff.", field="role") from None


def user_create(*, org_id: int, email: str, password: str, role: str | Role, name: str = "",
                by: User | None = None) -> User:
    """Add a user to an organisation; e-mails are unique across the whole installation."""
    email = email.strip().lower()
    if not EMAIL_RE.fullmatch(email):
        raise InvalidInput("Enter a valid e-mail address.", field="email")
    _check_password(password, email=email, name=name)
    role = parse_role(role)
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise Conflict(f"A user with the e-mail {email} already exists.", field="email")
    user = User(organisation_id=org_id, email=email, name=name.strip(), password_hash=hash_password(password),
                role=role, active=True)
    db.session.add(user)
    db.session.flush()
    audit.record(org_id=org_id, actor_id=by.id if by else None, action="user.create", object_type="user",
                 object_id=user.id, after={"email": email, "role": role.value})
    db.session.commit()
    return user


def _load(org_id: int, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.organisation_id != org_id:
        raise NotFound("No such user in your organisation.")
    return user


def _other_active_admins(org_id: int, user_id: int) -> int:
    return db.session.scalar(select(func.count(User.id)).where(
        User.organisation_id == org_id, User.role == Role.ADMIN, User.active.is_(True), User.id != user_id)) or 0


def user_change_role(*, org_id: int, user_id: int, role: str | Role, by: User) -> User:
    """Change a user's role; an organisation always keeps one active admin."""
    user, role = _load(org_id, user_id), parse_role(role)
    if user.role == Role.ADMIN and role != Role.ADMIN and not _other_active_admins(org_id, user.id):
        raise Conflict("This is the organisation's last active admin; make someone else admin first.")
    before = {"role": user.role.value}
    if role != user.role:
        _end_sessions(user)
    user.role = role
    audit.record(org_id=org_id, actor_id=by.id, action="user.role", object_type="user", object_id=user.id,
                 before=before, after={"role": role.value})
    db.session.commit()
    return user


def user_set_active(*, org_id: int, user_id: int, active: bool, by: User) -> User:
    """Deactivate (sign-in refused, sessions end) or reactivate a user."""
    user = _load(org_id, user_id)
    if not active and user.id == by.id:
        raise Conflict("You cannot deactivate yourself.")
    if not active and user.role == Role.ADMIN and not _other_active_admins(org_id, user.id):
        raise Conflict("This is the organisation's last active admin; make someone else admin first.")
    before = {"active": user.active}
    if not active:
        _end_sessions(user)
    user.active = active
    audit.record(org_id=org_id, actor_id=by.id, action="user.activate" if active else "user.deactivate",
                 object_type="user", object_id=user.id, before=before, after={"active": active})
    db.session.commit()
    return user


def user_record_login(user: User) -> None:
    """Note the time of a successful sign-in (commits)."""
    user.last_login_at = utcnow()
    db.session.commit()


def generate_password() -> str:
    """A random password for seeded demo accounts."""
    return secrets.token_urlsafe(12)
