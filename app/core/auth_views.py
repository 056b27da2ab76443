"""Sign in (password, then the second factor when the account has one) and out, throttled per
account and per address. Every sign-in opens a server-side session (app.accounts.sessions)."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user

from app.accounts.sessions import SESSION_KEY, session_end, sign_in_browser
from app.accounts.two_factor import second_factor_verify, two_factor_enabled
from app.core.auth import authenticate
from app.core.forms import LoginForm, SecondFactorForm
from app.core.models import User
from app.extensions import db, limiter

bp = Blueprint("auth", __name__)

PENDING = "_2fa_pending"
PENDING_SECONDS = 300


# Keys carry the app's Redis namespace (the limiter itself is shared by every app in a process).
def _address_key() -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}:login-address:{get_remote_address()}"


def _account_key() -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}:login-account:" + request.form.get("email", "").strip().lower()


def _second_factor_key() -> str:
    pending = session.get(PENDING) or {}
    return f"{current_app.config['REDIS_NAMESPACE']}:login-2fa:{pending.get('uid', '-')}"


def _failed(response) -> bool:
    # Only failed attempts count: a successful sign-in redirects.
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.index")


def _address_limit():
    return limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], key_func=_address_key,
                         methods=["POST"], deduct_when=_failed, scope="login-address",
                         error_message="Too many failed sign-ins from your address. Wait a few minutes and try again.")


def _complete_sign_in(user: User, *, remember: bool, target: str, two_factor: bool):
    sign_in_browser(user, remember=remember, two_factor=two_factor)
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
@_address_limit()
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_account_key,
               methods=["POST"], deduct_when=_failed, scope="login-account",
               error_message="Too many failed sign-ins for this account. Wait a few minutes and try again.")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            target = _safe_next(request.args.get("next"))
            if two_factor_enabled(user):
                session[PENDING] = {"uid": user.id, "remember": bool(form.remember.data), "next": target,
                                    "at": time.time()}
                return redirect(url_for("auth.second_factor"))
            return _complete_sign_in(user, remember=bool(form.remember.data), target=target, two_factor=False)
        form.password.errors.append("Wrong e-mail or password, or the account is deactivated.")
        return render_template("core/login.html", form=form), 401
    return render_template("core/login.html", form=form), (400 if form.errors else 200)


def _pending_user() -> tuple[User | None, dict]:
    pending = session.get(PENDING) or {}
    if not pending or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None, {}
    user = db.session.get(User, int(pending["uid"]))
    return (user if user is not None and user.active else None), pending


@bp.route("/login/two-factor", methods=["GET", "POST"])
@_address_limit()
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_second_factor_key,
               methods=["POST"], deduct_when=_failed, scope="login-2fa",
               error_message="Too many wrong codes for this account. Wait a few minutes and try again.")
def second_factor():
    user, pending = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash("Sign in with your password first (the code step lasts five minutes).", "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        how = second_factor_verify(user=user, code=form.code.data)
        if how is not None:
            if how == "recovery":
                flash("You used a recovery code: it will not work again. Make new ones on your account page "
                      "when few are left.", "warning")
            return _complete_sign_in(user, remember=pending.get("remember", False), two_factor=True,
                                     target=_safe_next(pending.get("next")))
        form.code.errors.append("That code is not right (or was used already).")
        return render_template("account/login_two_factor.html", form=form), 401
    return render_template("account/login_two_factor.html", form=form), (400 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    session_end(session.get(SESSION_KEY))
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
