"""Admin tools for accounts: invitations, the two-factor policy, every API token of the organisation."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from app.accounts import links, selectors, tokens, two_factor
from app.accounts.forms import InviteForm, PolicyForm
from app.core import selectors as core_selectors
from app.core.auth import admin_required
from app.core.errors import DomainError
from app.core.forms import UserCreateForm, UserRoleForm
from app.core.nav import register_nav

bp = Blueprint("account_admin", __name__, url_prefix="/admin")
register_nav("API tokens", "account_admin.tokens", roles=("admin",), order=15, group="admin")


@bp.app_context_processor
def _account_panel():
    def account_admin_panel() -> dict:
        """What the users page shows beside the users: invitations and the sign-in policy."""
        org_id = current_user.organisation_id
        policy = two_factor.policy_get(org_id)
        return {"invite_form": InviteForm(), "invitations": selectors.open_invitations(org_id),
                "policy_form": PolicyForm(two_factor=policy.value), "policy": policy,
                "outbox": selectors.outbox(org_id, limit=20)}

    return {"account_admin_panel": account_admin_panel}


@bp.post("/invitations")
@admin_required
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            link, url = links.invitation_create(org_id=current_user.organisation_id, email=form.email.data,
                                                name=form.name.data, role=form.role.data, by=current_user)
        except DomainError as exc:
            getattr(form, exc.field if exc.field in ("email", "role") else "email").errors.append(exc.message)
        else:
            _flash_sent(link.email, url)
            return redirect(url_for("admin.users"))
    return render_template("core/users.html", users=core_selectors.users(current_user.organisation_id),
                           form=UserCreateForm(), role_form=UserRoleForm(), invite_form=form), 422


def _flash_sent(email: str, url: str) -> None:
    from flask import current_app

    if current_app.config.get("SMTP_HOST"):
        flash(f"Invitation e-mailed to {email}.", "success")
    else:
        flash(f"No SMTP server is set up, so the invitation to {email} waits in the local outbox. "
              f"Pass the link on yourself: {url}", "success")


@bp.post("/invitations/<int:invitation_id>/revoke")
@admin_required
def invite_revoke(invitation_id: int):
    links.invitation_revoke(org_id=current_user.organisation_id, invitation_id=invitation_id, by=current_user)
    flash("The invitation is withdrawn; its link no longer works.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/security")
@admin_required
def policy():
    form = PolicyForm()
    if form.validate_on_submit():
        value = two_factor.policy_set(org_id=current_user.organisation_id, policy=form.two_factor.data,
                                      by=current_user)
        flash(f"Two-factor sign-in: {dict(form.two_factor.choices)[value.value].lower()}.", "success")
    else:
        flash("Choose one of the options.", "error")
    return redirect(url_for("admin.users"))


@bp.get("/api-tokens", endpoint="tokens")
@admin_required
def tokens_page():
    return render_template("account/admin_tokens.html",
                           tokens=selectors.organisation_tokens(current_user.organisation_id))



@bp.post("/api-tokens/<int:token_id>/revoke")
@admin_required
def token_revoke(token_id: int):
    token = tokens.token_revoke(token_id=token_id, by=current_user, as_admin=True)
    flash(f"The token {token.name!r} of {token.user.email} is revoked.", "success")
    return redirect(url_for("account_admin.tokens"))
