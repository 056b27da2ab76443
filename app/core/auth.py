"""Passwords, the user loader and role decorators."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.models import Role, User
from app.extensions import db, login_manager

# A hash computed once so that an unknown e-mail costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """scrypt, Werkzeug's current default."""
    return generate_password_hash(password)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The signed-in user, only while the session behind the cookie stands (see app.accounts.sessions)."""
    from app.accounts.sessions import load_session_user

    return load_session_user(user_id)


def role_required(*roles: Role | str):
    """Allow the view to users with one of these roles (admins always); others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = tuple(Role(r) for r in roles)
        return wrapped

    return decorator


admin_required = role_required(Role.ADMIN)
manager_required = role_required(Role.MANAGER)


@login_manager.unauthorized_handler
def _unauthorized():
    """Pages redirect to the sign-in form; HTMX requests ask the browser to go there."""
    from flask import flash, redirect, request, url_for

    from app.core.htmx import is_htmx

    if is_htmx():
        return "", 401, {"HX-Redirect": url_for("auth.login")}
    if request.path.startswith("/events"):
        return "", 401
    flash("Please sign in to see that page.", "info")
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
