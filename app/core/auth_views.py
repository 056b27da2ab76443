"""Sign in and out, throttled per account and per address."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from app.core.auth import authenticate
from app.core.forms import LoginForm
from app.core.users import user_record_login
from app.extensions import limiter

bp = Blueprint("auth", __name__)


# Keys carry the app's Redis namespace (the limiter itself is shared by every app in a process).
def _address_key() -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}:login-address:{get_remote_address()}"


def _account_key() -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}:login-account:" + request.form.get("email", "").strip().lower()


def _failed(response) -> bool:
    # Only failed attempts count: a successful sign-in redirects.
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], key_func=_address_key,
               methods=["POST"], deduct_when=_failed, scope="login-address",
               error_message="Too many failed sign-ins from your address. Wait a few minutes and try again.")
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
            login_user(user, remember=form.remember.data)
            user_record_login(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("Wrong e-mail or password, or the account is deactivated.")
        return render_template("core/login.html", form=form), 401
    return render_template("core/login.html", form=form), (400 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
