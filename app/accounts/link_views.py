"""Pages reached from e-mailed links: forgotten password, reset, accepting an invitation."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address

from app.accounts import links
from app.accounts.forms import ForgotForm, InviteAcceptForm, ResetForm
from app.accounts.models import LinkKind
from app.accounts.sessions import sign_in_browser
from app.core.errors import DomainError, NotFound
from app.core.models import Organisation
from app.extensions import db, limiter

bp = Blueprint("links", __name__)

SENT = ("If an account uses that address, we have sent it a link to choose a new password. "
        "The link works once and expires in {minutes} minutes.")


def _reset_address_key() -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}:reset-address:{get_remote_address()}"


def _reset_email_key() -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}:reset-email:" + request.form.get("email", "").strip().lower()


def _reset_limit(key_func, scope: str):
    return limiter.limit(lambda: current_app.config["ACCOUNT_RESET_LIMIT"], key_func=key_func, methods=["POST"],
                         scope=scope, error_message="Too many reset requests. Wait a few minutes and try again.")


@bp.route("/account/reset/", methods=["GET", "POST"])
@_reset_limit(_reset_address_key, "reset-address")
@_reset_limit(_reset_email_key, "reset-email")
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        links.reset_request(email=form.email.data)
        # The same words, status and page whether or not the address has an account.
        flash(SENT.format(minutes=current_app.config["ACCOUNT_RESET_MINUTES"]), "info")
        return redirect(url_for("auth.login"))
    return render_template("account/forgot.html", form=form), (400 if form.errors else 200)


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    link = links.link_find(LinkKind.RESET, token)
    if link is None:
        raise NotFound(links.GONE)
    form = ResetForm()
    if form.validate_on_submit():
        try:
            links.reset_complete(token=token, password=form.password.data)
        except DomainError as exc:
            db.session.rollback()
            if isinstance(exc, NotFound):
                raise
            form.password.errors.append(exc.message)
        else:
            flash("Your password is changed and every session of your account ended. Sign in with it now.",
                  "success")
            return redirect(url_for("auth.login"))
    return render_template("account/reset.html", form=form, email=link.email), (422 if form.errors else 200)


@bp.route("/account/invite/<token>", methods=["GET", "POST"])
def invite_accept(token: str):
    link = links.link_find(LinkKind.INVITE, token)
    if link is None:
        raise NotFound(links.GONE)
    org = db.session.get(Organisation, link.organisation_id)
    form = InviteAcceptForm(name=link.name) if request.method == "GET" else InviteAcceptForm()
    if form.validate_on_submit():
        try:
            user = links.invitation_accept(token=token, name=form.name.data, password=form.password.data)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            getattr(form, exc.field if exc.field in ("name", "password") else "password").errors.append(exc.message)
        else:
            sign_in_browser(user, remember=False, two_factor=False)
            flash(f"Welcome to {org.name}. You are signed in.", "success")
            return redirect(url_for("dashboard.index"))
    return render_template("account/invite.html", form=form, link=link, org=org), (422 if form.errors else 200)
