"""Inbox pages: conversations, thread with extracted lines, review queue, customers, settings, usage."""
from __future__ import annotations

import json
import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from app.core import selectors as core_selectors
from app.core.auth import admin_required, role_required
from app.core.database import write_intent
from app.core.errors import DomainError
from app.core.htmx import is_htmx, render
from app.core.nav import register_card, register_nav
from app.core.pagination import paginate
from app.core.tenancy import get_or_404
from app.extensions import db
from app.inbox import hooks, merges, models, pii, review, review_models, selectors, services, text_model, usage, webhooks_out
from app.inbox.channels import delivery, templates
from app.inbox.channels import models as channel_models
from app.inbox.channels import views as channel_views
from app.inbox.models import Conversation, CustomerMerge, Message
from app.inbox.review_models import WEBHOOK_EVENTS, ExtractedLine, Extraction, WebhookEndpoint
from app.inbox.statuses import AttachmentStatus, ReplyStatus
from app.orders.models import Customer

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
PICKER_TARGET = re.compile(r"(?:[A-Za-z][A-Za-z0-9-]{0,63})?")  # empty: options only
blueprints = [bp, hooks.bp, channel_views.bp]
_ = (models, review_models, channel_models)  # tables must be known to every process

register_nav("Inbox", "inbox.index", order=40)
register_card("inbox", title="Inbox", template="inbox/_card.html", load=selectors.inbox_counts,
              events=(services.CONVERSATION_EVENT, review.REVIEW_EVENT), order=40)


@bp.app_template_filter("mask_payment")
def mask_payment(text: str | None) -> str:
    """Staff see who wrote and how to reach them, never a card number or IBAN."""
    return pii.mask(text, ("card", "iban"))


@bp.app_template_global("marked_body")
def marked_body(message, extraction=None, limit: int | None = None) -> Markup:
    """The message body, escaped and payment-masked, with the parts not understood marked."""
    body = message.body or ""
    offset = len(message.subject) + 1 if message.subject else 0
    spans = sorted((p["start"] - offset, p["end"] - offset, bool(p.get("resolved_at")))
                   for p in (extraction.not_understood if extraction is not None else []) or []
                   if isinstance(p.get("start"), int) and p["start"] >= offset)
    out, last = [], 0
    for start, end, resolved in spans:
        if start < last or end > len(body):
            continue
        out.append(escape(mask_payment(body[last:start])))
        css = "not-understood resolved" if resolved else "not-understood"
        out.append(Markup('<mark class="{}" title="Not understood">{}</mark>').format(css, mask_payment(body[start:end])))
        last = end
    out.append(escape(mask_payment(body[last:])))
    text = Markup("").join(out)
    if limit and len(body) > limit and not spans:
        return escape(mask_payment(body[:limit]) + "…")
    return text


def _write(fn, **kwargs):
    """Run a service that writes from a GET: end the read transaction, then take SQLite's write lock
    up front (a read that turns into a write fails at once when another writer holds the lock)."""
    db.session.commit()
    with write_intent():
        return fn(**kwargs)


def _org() -> int:
    return current_user.organisation_id


def _uid() -> int:
    return current_user.id


# --- conversations --------------------------------------------------------------------------------

def _list_context() -> dict:
    status = request.args.get("status", "open")
    q = request.args.get("q", "")
    mine = request.args.get("mine") == "1"
    page = paginate(selectors.conversations_query(_org(), status=status, q=q, mine_id=_uid() if mine else None),
                    request.args.get("page", 1), per_page=50)
    ids = [c.id for c in page.items]
    return {"page": page, "status": status, "q": q, "mine": mine, "last": selectors.last_messages(ids),
            "to_review": selectors.open_extractions_by_conversation(_org(), ids),
            "kinds": selectors.conversation_kinds(_org(), ids)}


@bp.get("/")
@login_required
def index():
    return render("inbox/index.html", **_list_context())


@bp.get("/conversations")
@login_required
def conversation_list():
    return render_template("inbox/_conversations.html", **_list_context())


def _thread_context(conversation: Conversation) -> dict:
    staff = core_selectors.users(_org(), active_only=True)
    return {"conversation": conversation, "thread": selectors.thread(conversation), "staff": staff,
            "retryable": ReplyStatus.group("retryable"), "window": services.whatsapp_window(conversation),
            "templates": templates.templates_for(conversation),
            "retryable_files": AttachmentStatus.group("retryable")}


@bp.get("/c/<int:conversation_id>")
@login_required
def conversation(conversation_id: int):
    conv = get_or_404(Conversation, conversation_id)
    if conv.unread_count:
        _write(services.conversation_mark_read, org_id=_org(), conversation_id=conv.id)
    return render("inbox/conversation.html", "inbox/_thread.html", **_thread_context(conv))


@bp.get("/c/<int:conversation_id>/thread")
@login_required
def conversation_thread(conversation_id: int):
    conv = get_or_404(Conversation, conversation_id)
    if conv.unread_count:
        _write(services.conversation_mark_read, org_id=_org(), conversation_id=conv.id)
    return render_template("inbox/_thread.html", **_thread_context(conv))


def _back_to(conversation_id: int):
    if is_htmx():
        conv = get_or_404(Conversation, conversation_id)
        return render_template("inbox/_thread.html", **_thread_context(conv))
    return redirect(url_for("inbox.conversation", conversation_id=conversation_id))


@bp.post("/c/<int:conversation_id>/reply")
@login_required
def reply(conversation_id: int):
    get_or_404(Conversation, conversation_id)
    services.reply_send(org_id=_org(), conversation_id=conversation_id, body=request.form.get("body", ""),
                        by=current_user)
    return _back_to(conversation_id)


@bp.post("/c/<int:conversation_id>/template")
@login_required
def template_reply(conversation_id: int):
    get_or_404(Conversation, conversation_id)
    form = request.form
    templates.template_reply_send(org_id=_org(), conversation_id=conversation_id, template_id=form.get("template_id"),
                                  params=[form.get(f"param-{n}", "") for n in range(1, templates.MAX_PARAMS + 1)],
                                  by=current_user)
    return _back_to(conversation_id)


@bp.post("/messages/<int:message_id>/retry")
@login_required
def reply_retry(message_id: int):
    message = get_or_404(Message, message_id)
    delivery.reply_retry(org_id=_org(), message_id=message.id, by=current_user)
    return _back_to(message.conversation_id)


@bp.post("/c/<int:conversation_id>/status")
@login_required
def conversation_status(conversation_id: int):
    get_or_404(Conversation, conversation_id)
    services.conversation_set_status(org_id=_org(), conversation_id=conversation_id,
                                     status=request.form.get("status", ""), by=current_user)
    return _back_to(conversation_id)


@bp.post("/c/<int:conversation_id>/assign")
@login_required
def conversation_assign(conversation_id: int):
    get_or_404(Conversation, conversation_id)
    raw = request.form.get("user_id", "")
    services.conversation_assign(org_id=_org(), conversation_id=conversation_id,
                                 user_id=int(raw) if raw.isdigit() else None, by=current_user)
    return _back_to(conversation_id)


# --- extraction review ----------------------------------------------------------------------------

@bp.get("/review")
@login_required
def review_queue():
    return render("inbox/review.html", "inbox/_review_rows.html", extractions=selectors.review_queue(_org()))


def _panel(extraction: Extraction, error: str | None = None, status: int = 200):
    body = render_template("inbox/_extraction.html", extraction=extraction, error=error, standalone=True)
    return body, status


def _after_review(extraction_id: int, error: str | None = None, status: int = 200):
    extraction = get_or_404(Extraction, extraction_id)
    if is_htmx():
        return _panel(extraction, error, status)
    if error:
        flash(error, "error")
    return redirect(url_for("inbox.conversation", conversation_id=extraction.message.conversation_id))


def _review_action(panel_id: int, action, /, **kwargs):
    """Run one review service call; the panel comes back with its message when the rule says no."""
    try:
        result = action(org_id=_org(), by=current_user, **kwargs)
    except DomainError as exc:
        return None, _after_review(panel_id, exc.message, exc.status if is_htmx() else 200)
    return result, None


@bp.get("/x/<int:extraction_id>")
@login_required
def extraction(extraction_id: int):
    return _panel(get_or_404(Extraction, extraction_id))


@bp.post("/x/<int:extraction_id>/confirm")
@login_required
def extraction_confirm(extraction_id: int):
    get_or_404(Extraction, extraction_id)
    order, refused = _review_action(extraction_id, review.extraction_confirm, extraction_id=extraction_id)
    if refused:
        return refused
    if not is_htmx():
        flash(f"Order {order.number} created and its stock reserved.", "success")
    return _after_review(extraction_id)


@bp.post("/x/<int:extraction_id>/reject")
@login_required
def extraction_reject(extraction_id: int):
    get_or_404(Extraction, extraction_id)
    _, refused = _review_action(extraction_id, review.extraction_reject, extraction_id=extraction_id,
                                 reason=request.form.get("reason", ""))
    return refused or _after_review(extraction_id)


@bp.post("/x/<int:extraction_id>/understood")
@login_required
def part_resolve(extraction_id: int):
    get_or_404(Extraction, extraction_id)
    _, refused = _review_action(extraction_id, review.part_resolve, extraction_id=extraction_id,
                                 index=request.form.get("index"))
    return refused or _after_review(extraction_id)


@bp.post("/x/<int:extraction_id>/lines")
@login_required
def line_add(extraction_id: int):
    get_or_404(Extraction, extraction_id)
    _, refused = _review_action(extraction_id, review.line_add, extraction_id=extraction_id,
                                 item_id=request.form.get("item_id"), quantity=request.form.get("quantity"))
    return refused or _after_review(extraction_id)


@bp.post("/x/<int:extraction_id>/date")
@login_required
def wanted_date(extraction_id: int):
    get_or_404(Extraction, extraction_id)
    _, refused = _review_action(extraction_id, review.wanted_date_update, extraction_id=extraction_id,
                                 value=request.form.get("wanted_date", "").strip())
    return refused or _after_review(extraction_id)


@bp.post("/lines/<int:line_id>")
@login_required
def line_update(line_id: int):
    line = get_or_404(ExtractedLine, line_id)
    _, refused = _review_action(line.extraction_id, review.line_update, line_id=line.id,
                                 item_id=request.form.get("item_id") or line.item_id,
                                 quantity=request.form.get("quantity"))
    return refused or _after_review(line.extraction_id)


@bp.post("/lines/<int:line_id>/remove")
@login_required
def line_remove(line_id: int):
    line = get_or_404(ExtractedLine, line_id)
    _, refused = _review_action(line.extraction_id, review.line_remove, line_id=line.id)
    return refused or _after_review(line.extraction_id)


@bp.get("/items")
@login_required
def item_picker():
    q = request.args.get("q", "").strip()
    items = selectors.item_search(_org(), q) if q else []
    target = request.args.get("target", "")
    if not PICKER_TARGET.fullmatch(target):  # the id of the field the choice goes into, nothing else
        abort(400, "target names the field to fill: letters, digits and dashes.")
    return render_template("inbox/_item_options.html", items=items, q=q, target=target)


# --- customers ------------------------------------------------------------------------------------

@bp.get("/customers")
@login_required
def customers():
    q = request.args.get("q", "")
    page = paginate(selectors.customers_query(_org(), q), request.args.get("page", 1), per_page=50)
    return render("inbox/customers.html", "inbox/_customer_rows.html", page=page, q=q)


@bp.get("/customers/<int:customer_id>")
@login_required
def customer(customer_id: int):
    get_or_404(Customer, customer_id)
    row = _write(services.customer_view, org_id=_org(), customer_id=customer_id, by=current_user)
    merged = selectors.merges_into(_org(), row.id)
    return render_template("inbox/customer.html", customer=row, profile=selectors.profile_of(row.id),
                           merges=merged, origins=selectors.order_origins(merged),
                           candidates=selectors.merge_candidates(_org(), row.id),
                           orders=selectors.customer_orders(_org(), row.id), flags=services.CUSTOMER_FLAGS,
                           conversations=selectors.customer_conversations(_org(), row.id))


@bp.post("/customers/<int:customer_id>/merge")
@role_required("manager")
def customer_merge(customer_id: int):
    get_or_404(Customer, customer_id)
    merge = merges.customer_merge(org_id=_org(), target_id=customer_id, source_id=request.form.get("source_id"),
                                  by=current_user)
    flash(f"{merge.source.name} merged into this customer: their conversations are listed here.", "success")
    return redirect(url_for("inbox.customer", customer_id=customer_id))


@bp.post("/merges/<int:merge_id>/split")
@role_required("manager")
def customer_split(merge_id: int):
    merge = get_or_404(CustomerMerge, merge_id)
    merges.customer_split(org_id=_org(), merge_id=merge.id, by=current_user)
    flash(f"{merge.source.name} is a customer of their own again.", "success")
    return redirect(url_for("inbox.customer", customer_id=merge.target_id))


@bp.post("/customers/<int:customer_id>/profile")
@login_required
def customer_profile(customer_id: int):
    get_or_404(Customer, customer_id)
    services.customer_profile_update(org_id=_org(), customer_id=customer_id, labels=request.form.get("labels", ""),
                                     notes=request.form.get("notes", ""), flags=request.form.getlist("flags"),
                                     by=current_user)
    flash("Customer saved.", "success")
    return redirect(url_for("inbox.customer", customer_id=customer_id))


@bp.get("/customers/<int:customer_id>/export")
@role_required("manager")
def customer_export(customer_id: int):
    get_or_404(Customer, customer_id)
    data = _write(services.customer_export, org_id=_org(), customer_id=customer_id, by=current_user)
    return Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json",
                    # A person's data: no browser or proxy cache may keep a copy.
                    headers={"Content-Disposition": f"attachment; filename=customer-{customer_id}.json",
                             "Cache-Control": "no-store"})


@bp.post("/customers/<int:customer_id>/erase")
@role_required("manager")
def customer_erase(customer_id: int):
    get_or_404(Customer, customer_id)
    services.customer_erase(org_id=_org(), customer_id=customer_id, by=current_user)
    flash("The customer's personal data was erased; their orders keep numbers and amounts.", "success")
    return redirect(url_for("inbox.customer", customer_id=customer_id))


# --- settings -------------------------------------------------------------------------------------

@bp.get("/settings/webhooks")
@admin_required
def webhooks():
    return render_template("inbox/webhooks.html", endpoints=selectors.endpoints(_org()),
                           deliveries=selectors.deliveries(_org()), events=WEBHOOK_EVENTS, new_secret=None,
                           error=None, form={})


@bp.post("/settings/webhooks")
@admin_required
def webhook_create():
    try:
        endpoint, secret = webhooks_out.endpoint_create(org_id=_org(), url=request.form.get("url", ""),
                                                        events=request.form.getlist("events"), by=current_user)
    except DomainError as exc:
        return render_template("inbox/webhooks.html", endpoints=selectors.endpoints(_org()),
                               deliveries=selectors.deliveries(_org()), events=WEBHOOK_EVENTS, new_secret=None,
                               error=exc.message, form=request.form), 422
    return render_template("inbox/webhooks.html", endpoints=selectors.endpoints(_org()),
                           deliveries=selectors.deliveries(_org()), events=WEBHOOK_EVENTS,
                           new_secret=(endpoint, secret), error=None, form={})


@bp.post("/settings/webhooks/<int:endpoint_id>/active")
@admin_required
def webhook_active(endpoint_id: int):
    get_or_404(WebhookEndpoint, endpoint_id)
    webhooks_out.endpoint_set_active(org_id=_org(), endpoint_id=endpoint_id,
                                     active=request.form.get("active") == "1", by=current_user)
    return redirect(url_for("inbox.webhooks"))


@bp.post("/settings/webhooks/<int:endpoint_id>/delete")
@admin_required
def webhook_delete(endpoint_id: int):
    get_or_404(WebhookEndpoint, endpoint_id)
    webhooks_out.endpoint_delete(org_id=_org(), endpoint_id=endpoint_id, by=current_user)
    flash("Webhook removed.", "success")
    return redirect(url_for("inbox.webhooks"))


# --- usage and budget -----------------------------------------------------------------------------

def _usage_context(error: str | None = None) -> dict:
    days = usage.daily_usage(_org())
    return {"state": usage.budget_state(_org()), "providers": usage.provider_totals(_org()), "days": days,
            "cost_chart": usage.chart(days, key="cost"), "calls_chart": usage.chart(days, key="calls"),
            "error": error, "external": text_model.enabled(), "colours": usage.COLOURS}


@bp.get("/usage")
@role_required("manager")
def usage_page():
    return render_template("inbox/usage.html", **_usage_context())


@bp.post("/usage/budget")
@role_required("manager")
def budget():
    try:
        usage.budget_set(org_id=_org(), warning_amount=request.form.get("warning_amount", ""),
                         hard_limit=request.form.get("hard_limit", ""), currency=request.form.get("currency", "USD"),
                         by=current_user)
    except DomainError as exc:
        return render_template("inbox/usage.html", **_usage_context(exc.message)), 422
    flash("Budget saved.", "success")
    return redirect(url_for("inbox.usage_page"))


from app.inbox import attachment_views  # noqa: E402,F401 (its routes are on this blueprint)
