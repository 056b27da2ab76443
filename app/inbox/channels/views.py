"""The channel settings page (admins): numbers and mailboxes, their public addresses, tests, deliveries."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core import crypto
from app.core.auth import admin_required
from app.core.errors import DomainError
from app.core.htmx import is_htmx
from app.core.tenancy import get_or_404
from app.inbox import services as inbox_services
from app.inbox.channels import selectors, services, templates
from app.inbox.channels.forms import ChannelForm, TemplateForm, TestMessageForm
from app.inbox.channels.models import PROVIDER_FIELDS, InboxChannel, WhatsAppTemplate
from app.inbox.statuses import ReplyStatus

bp = Blueprint("inbox_channels", __name__, url_prefix="/inbox/settings/channels")


@bp.app_template_filter("mask_secret")
def mask_secret(value: str | None) -> str:
    """A secret as pages show it: never in full."""
    return crypto.mask(value)


@bp.app_template_filter("reply_label")
def reply_label(value: str | None) -> str:
    """'sent' -> 'sent to provider', 'outbox' -> 'kept in outbox: no provider configured'."""
    try:
        return ReplyStatus(value or "").label
    except ValueError:
        return value or ""


def _org() -> int:
    return current_user.organisation_id


HOOK_ENDPOINTS = {"twilio": "inbox_hooks.twilio_inbound", "meta": "inbox_hooks.meta_hook",
                  "mailgun": "inbox_hooks.mailgun_hook", "postmark": "inbox_hooks.postmark_hook",
                  "rfc822": "inbox_hooks.rfc822_hook"}


def _hook_url(token: str, provider: str) -> str:
    # Built from the request as the provider will see it: ProxyFix (TRUSTED_PROXIES) supplies the
    # public host and https when the app runs behind a proxy. SMTP channels only send: no address.
    endpoint = HOOK_ENDPOINTS.get(provider)
    return url_for(endpoint, token=token, _external=True) if endpoint else ""


def _page(form: ChannelForm | None = None, *, show_secret: bool = False, status: int = 200,
          template_forms: dict | None = None):
    config = inbox_services.config_by_org(_org())
    json_url = url_for("inbox_hooks.json_hook", token=config.hook_token, _external=True) if config else ""
    return render_template("inbox/channels.html", channels=selectors.channels(_org()), form=form or ChannelForm(),
                           config=config, json_url=json_url, show_secret=show_secret, fields=PROVIDER_FIELDS,
                           cards=_cards_context(), template_forms=template_forms or {}), status


def _cards_context() -> dict:
    return {"deliveries": selectors.recent_deliveries(_org()), "test_form": TestMessageForm()}


def _card(row: InboxChannel, form: ChannelForm | None = None, test_form: TestMessageForm | None = None,
          status: int = 200, template_form: TemplateForm | None = None):
    if not is_htmx():
        if template_form is not None and status >= 400:  # the whole page, with what was typed and why not
            return _page(status=status, template_forms={row.id: template_form})
        if status >= 400:
            for f in (form, test_form):
                for errors in (f.errors.values() if f else []):
                    for error in errors:
                        flash(error, "error")
        return redirect(url_for("inbox_channels.page") + f"#channel-{row.id}")
    return render_template("inbox/_channel.html", channel=row, edit_form=form, test_form=test_form or TestMessageForm(),
                           template_form=template_form, deliveries=selectors.recent_deliveries(_org(), row.id),
                           fields=PROVIDER_FIELDS), status


def _field_error(form, exc: DomainError) -> None:
    target = form[exc.field] if exc.field and exc.field in form else None
    if target is None:
        form.form_errors.append(exc.message)
    else:
        target.errors = [*target.errors, exc.message]


@bp.get("/")
@admin_required
def page():
    created = inbox_services.channel_config_get_or_create(org_id=_org())[1]
    return _page(show_secret=created)


@bp.post("/")
@admin_required
def create():
    form = ChannelForm()
    if not form.validate():
        return _page(form, status=422)
    settings, secrets = form.provider_values()
    try:
        row = services.channel_create(org_id=_org(), kind=form.kind.data, provider=form.provider.data,
                                      name=form.name.data, address=form.address.data, settings=settings,
                                      secrets=secrets, hook_url_for=_hook_url, by=current_user)
    except DomainError as exc:
        _field_error(form, exc)
        return _page(form, status=422)
    flash(f"{row.name} added. Paste its webhook address into {row.provider.label}.", "success")
    return redirect(url_for("inbox_channels.page") + f"#channel-{row.id}")


@bp.get("/<int:channel_id>")
@admin_required
def card(channel_id: int):
    return _card(get_or_404(InboxChannel, channel_id))


@bp.post("/<int:channel_id>")
@admin_required
def update(channel_id: int):
    row = get_or_404(InboxChannel, channel_id)
    form = ChannelForm()
    if not form.validate():
        return _card(row, form, status=422)
    settings, secrets = form.provider_values()
    try:
        row = services.channel_update(org_id=_org(), channel_id=row.id, name=form.name.data, address=form.address.data,
                                      settings=settings, secrets=secrets, active=form.active.data, by=current_user)
    except DomainError as exc:
        _field_error(form, exc)
        return _card(row, form, status=422)
    return _card(row)


@bp.post("/<int:channel_id>/test")
@admin_required
def test_message(channel_id: int):
    row = get_or_404(InboxChannel, channel_id)
    form = TestMessageForm()
    if not form.validate():
        return _card(row, test_form=form, status=422)
    try:
        row = services.channel_test_send(org_id=_org(), channel_id=row.id, to=form.to.data or "", by=current_user)
    except DomainError as exc:
        _field_error(form, exc)
        return _card(row, test_form=form, status=422)
    return _card(row)


@bp.post("/<int:channel_id>/templates")
@admin_required
def template_add(channel_id: int):
    row = get_or_404(InboxChannel, channel_id)
    form = TemplateForm()
    if not form.validate():
        return _card(row, template_form=form, status=422)
    try:
        templates.template_add(org_id=_org(), channel_id=row.id, name=form.name.data, language=form.language.data,
                               body_params=form.body_params.data, preview=form.preview.data or "", by=current_user)
    except DomainError as exc:
        _field_error(form, exc)
        return _card(row, template_form=form, status=exc.status)
    return _card(row)


@bp.post("/templates/<int:template_id>/remove")
@admin_required
def template_remove(template_id: int):
    template = get_or_404(WhatsAppTemplate, template_id)
    return _card(templates.template_remove(org_id=_org(), template_id=template.id, by=current_user))


@bp.post("/json/rotate")
@admin_required
def json_rotate():
    inbox_services.channel_secrets_rotate(org_id=_org(), by=current_user,
                                          token_too=request.form.get("address") == "1")
    flash("New secret made. Copy it now: it is shown only this once.", "success")
    return _page(show_secret=True)
