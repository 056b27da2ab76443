"""Account actions a person takes on their own account: password change, sessions."""
from __future__ import annotations

from werkzeug.security import check_password_hash

from app.accounts.passwords import check_password
from app.accounts.sessions import security_for, session_revoke, sessions_end_all
from app.core import audit
from app.core.auth import hash_password
from app.core.errors import InvalidInput, NotFound
from app.core.models import User, utcnow
from app.extensions import db


def password_change(*, user: User, current: str, new: str, keep_key: str | None) -> None:
    """Change one's password; every other session of the account ends (this one stays). Commits."""
    if not check_password_hash(user.password_hash, current or ""):
        raise InvalidInput("That is not your current password.", field="current")
    if new == current:
        raise InvalidInput("Choose a password different from the current one.", field="new")
    check_password(new, user_inputs=(user.email, user.name), field="new")
    user.password_hash = hash_password(new)
    security_for(user).password_changed_at = utcnow()
    sessions_end_all(user=user, keep_key=keep_key)
    audit.record(org_id=user.organisation_id, actor_id=user.id, action="user.password_change", object_type="user",
                 object_id=user.id)
    db.session.commit()


def sign_out_everywhere(*, user: User) -> None:
    """End every session of the account, this one included. Commits."""
    sessions_end_all(user=user)
    audit.record(org_id=user.organisation_id, actor_id=user.id, action="user.sign_out_everywhere",
                 object_type="user", object_id=user.id)
    db.session.commit()


def session_sign_out(*, user: User, session_id: int) -> None:
    """End one of one's own sessions (another browser). Commits."""
    if not session_revoke(user=user, session_id=session_id):
        db.session.rollback()
        raise NotFound("There is no such session of yours.")
    db.session.commit()
