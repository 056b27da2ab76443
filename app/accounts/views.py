"""The account page: password, two-factor sign-in, signed-in sessions and personal API tokens.

Also, for every page request: keep the session's last-seen time, and send a person whose
organisation requires two-factor sign-in to set it up before anything else.
"""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from app.accounts import selectors, services, tokens, two_factor
from app.accounts.forms import CodeForm, PasswordChangeForm, TokenForm, TwoFactorOffForm
from app.accounts.sessions import SESSION_KEY, session_touch
from app.accounts.tokens import CAPABILITY_LABELS
from app.core.errors import DomainError
from app.core.htmx import is_htmx
from app.core.nav import register_nav

bp = Blueprint("account", __name__, url_prefix="/account")
register_nav("Account", "account.index", order=900)

SETUP_SECRET = "_2fa_setup"
# Pages a person who must still set up two-factor sign-in can reach.
SETUP_ALLOWED = {"account.two_factor", "account.index", "auth.logout", "static", "events.stream"}


@bp.before_app_request
def _session_upkeep():
    if request.path.startswith("/api/") or request.endpoint == "static":
        return None
    if not current_user.is_authenticated:
        return None
    session_touch()
    if request.endpoint in SETUP_ALLOWED or not two_factor.policy_requires(current_user):
        return None
    if two_factor.two_factor_enabled(current_user):
        return None
    if is_htmx():
        return "", 401, {"HX-Redirect": url_for("account.two_factor")}
    flash("Your organisation requires two-factor sign-in. Set it up to continue.", "warning")
    return redirect(url_for("account.two_factor"))


def _token_form() -> TokenForm:
    form = TokenForm()
    form.scopes.choices = [(s, _scope_label(s)) for s in tokens.scopes_for(current_user)]
    return form


def _scope_label(scope: str) -> str:
    capability, _, action = scope.partition(":")
    return f"{'Read' if action == 'read' else 'Change'} {CAPABILITY_LABELS[capability].lower()}"


def _index(status: int = 200, **extra):
    return render_template(
        "account/index.html", sessions=selectors.active_sessions(current_user),
        current_session_id=getattr(g.get("account_session"), "id", None), tokens=selectors.user_tokens(current_user),
        token_form=extra.pop("token_form", None) or _token_form(),
        two_factor_on=two_factor.two_factor_enabled(current_user),
        codes_left=two_factor.recovery_codes_left(current_user),
        required=two_factor.policy_requires(current_user), **extra), status


@bp.get("/")
@login_required
def index():
    return _index()


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.password_change(user=current_user, current=form.current.data, new=form.new.data,
                                     keep_key=session.get(SESSION_KEY))
        except DomainError as exc:
            getattr(form, exc.field or "new").errors.append(exc.message)
        else:
            flash("Your password is changed. Every other browser signed in as you has been signed out.", "success")
            return redirect(url_for("account.index"))
    return render_template("account/password.html", form=form), (422 if form.errors else 200)


@bp.post("/sessions/<int:session_id>/sign-out")
@login_required
def session_sign_out(session_id: int):
    services.session_sign_out(user=current_user, session_id=session_id)
    flash("That browser is signed out.", "success")
    return redirect(url_for("account.index"))


@bp.post("/sessions/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    services.sign_out_everywhere(user=current_user)
    logout_user()
    session.clear()
    flash("You are signed out everywhere, this browser included.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/two-factor", methods=["GET", "POST"], endpoint="two_factor")
@login_required
def two_factor_page():
    if two_factor.two_factor_enabled(current_user):
        return render_template("account/two_factor.html", enabled=True, off_form=TwoFactorOffForm(),
                               codes_form=CodeForm(), codes_left=two_factor.recovery_codes_left(current_user),
                               required=two_factor.policy_requires(current_user))
    secret = session.get(SETUP_SECRET) or two_factor.new_secret()
    session[SETUP_SECRET] = secret
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.two_factor_enable(user=current_user, secret=secret, code=form.code.data)
        except DomainError as exc:
            form.code.errors.append(exc.message)
        else:
            session.pop(SETUP_SECRET, None)
            return render_template("account/recovery_codes.html", codes=codes, first=True)
    uri = two_factor.provisioning_uri(secret, current_user.email)
    return render_template("account/two_factor.html", enabled=False, form=form, secret=secret,
                           qr=two_factor.qr_svg(uri), required=two_factor.policy_requires(current_user)), \
        (422 if form.errors else 200)



@bp.post("/two-factor/off")
@login_required
def two_factor_off():
    form = TwoFactorOffForm()
    if form.validate_on_submit():
        try:
            two_factor.two_factor_disable(user=current_user, password=form.password.data, code=form.code.data)
        except DomainError as exc:
            if exc.field:
                getattr(form, exc.field).errors.append(exc.message)
            else:
                flash(exc.message, "error")
        else:
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for("account.index"))
    return render_template("account/two_factor.html", enabled=True, off_form=form, codes_form=CodeForm(),
                           codes_left=two_factor.recovery_codes_left(current_user),
                           required=two_factor.policy_requires(current_user)), 422


@bp.post("/two-factor/recovery-codes")
@login_required
def recovery_codes():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.recovery_codes_regenerate(user=current_user, code=form.code.data)
        except DomainError as exc:
            form.code.errors.append(exc.message)
        else:
            return render_template("account/recovery_codes.html", codes=codes, first=False)
    return render_template("account/two_factor.html", enabled=True, off_form=TwoFactorOffForm(), codes_form=form,
                           codes_left=two_factor.recovery_codes_left(current_user),
                           required=two_factor.policy_requires(current_user)), 422


@bp.post("/tokens")
@login_required
def token_create():
    form = _token_form()
    if form.validate_on_submit():
        try:
            token, secret = tokens.token_create(user=current_user, name=form.name.data, scopes=form.scopes.data,
                                                expires_days=int(form.expires_days.data))
        except DomainError as exc:
            getattr(form, exc.field or "name").errors.append(exc.message)
        else:
            return _index(new_token=token, new_secret=secret)
    return _index(422, token_form=form)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def token_revoke(token_id: int):
    token = tokens.token_revoke(token_id=token_id, by=current_user)
    flash(f"The token {token.name!r} is revoked: requests made with it are refused from now on.", "success")
    return redirect(url_for("account.index"))
