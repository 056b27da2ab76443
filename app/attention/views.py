"""The attention queue's pages: /todo (with its top-bar count), alert settings, and one's alerts."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.attention import schedule, selectors, services  # noqa: F401 - schedule registers the sweeper
from app.attention.statuses import CHANNELS, MODES
from app.core import attention
from app.core.errors import DomainError, InvalidInput
from app.core.htmx import is_htmx

bp = Blueprint("attention", __name__)
QUICK_SNOOZES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "1d": timedelta(days=1),
                 "7d": timedelta(days=7)}



def badge_events() -> str:
    """The hx-trigger of anything that shows counts: every source's events, settled for a moment."""
    names = {attention.EVENT, *(e for s in attention.sources() for e in s.events)}
    return ", ".join(f"sse:{name} delay:300ms" for name in sorted(names)) + ", stockroom:resync, every 60s"


@bp.app_context_processor
def _attention_globals():
    return {"attention_events": badge_events}


@bp.get("/todo")
@login_required
def todo():
    filters = selectors.Filters.from_args(request.args)
    context = {"queue": selectors.queue(current_user, filters), "filters": filters, "events": badge_events()}
    template = "attention/_queue.html" if is_htmx() else "attention/todo.html"
    return render_template(template, **context)


@bp.get("/todo/count")
@login_required
def badge():
    return render_template("attention/_badge.html", badge=selectors.badge(current_user))


def _back(item_key: str):
    """Re-render the queue for the page that asked (HTMX), or go back to it."""
    filters = selectors.Filters.from_args(request.form)
    if is_htmx():
        return render_template("attention/_queue.html", queue=selectors.queue(current_user, filters), filters=filters,
                               events=badge_events(), selected=item_key)
    return redirect(url_for("attention.todo", **filters.as_args()))


def _queue_with_error(item_key: str, exc: DomainError):
    filters = selectors.Filters.from_args(request.form)
    context = {"queue": selectors.queue(current_user, filters), "filters": filters, "events": badge_events(),
               "selected": item_key, "error": {"key": item_key, "message": exc.message,
                                               "until": request.form.get("until", "")}}
    template = "attention/_queue.html" if is_htmx() else "attention/todo.html"
    return render_template(template, **context), exc.status


@bp.post("/todo/<item_key>/assign")
@login_required
def assign(item_key: str):
    to_me = request.form.get("to_me", "1") == "1"
    try:
        services.item_assign(item_key=item_key, to_me=to_me, by=current_user)
    except DomainError as exc:
        return _queue_with_error(item_key, exc)
    return _back(item_key)


def snooze_until(form, now: datetime) -> datetime | None:
    """The time chosen: a quick choice ("1h", "1d"…), or the date and time typed in the reader's zone."""
    quick = form.get("for", "")
    if quick:
        if quick not in QUICK_SNOOZES:
            raise InvalidInput("Choose one of the offered times.", field="until")
        return now + QUICK_SNOOZES[quick]
    raw = (form.get("until") or "").strip()
    if not raw:
        raise InvalidInput("Choose a date and time to snooze until.", field="until")
    try:
        typed = datetime.fromisoformat(raw)
        offset = int(form.get("tz_offset") or 0)  # minutes behind UTC, as the browser's getTimezoneOffset says
    except ValueError:
        raise InvalidInput(f"“{raw[:40]}” is not a date and time.", field="until") from None
    if typed.tzinfo is None:
        typed = typed.replace(tzinfo=UTC) + timedelta(minutes=offset)
    return typed.astimezone(UTC)


@bp.post("/todo/<item_key>/snooze")
@login_required
def snooze(item_key: str):
    services.open_entry(current_user, item_key)  # an item not theirs is 404/403 whatever the time typed
    try:
        until = None if request.form.get("wake") else snooze_until(request.form, datetime.now(UTC))
        services.item_snooze(item_key=item_key, until=until, by=current_user)
    except DomainError as exc:
        return _queue_with_error(item_key, exc)
    return _back(item_key)


# --- alerts --------------------------------------------------------------------------------------

def _settings_page(error: DomainError | None = None, typed: dict | None = None):
    settings = selectors.settings_of(current_user)
    kinds = attention.sources_for(current_user)
    chosen = typed or {s.kind: services.modes_for(settings, s.kind) for s in kinds}
    return render_template("attention/settings.html", kinds=kinds, chosen=chosen, modes=MODES, channels=CHANNELS,
                           settings=settings, webhook_url=request.form.get("webhook_url", settings.webhook_url
                                                                            if settings else ""),
                           error=error, deliveries=selectors.deliveries(current_user))


@bp.get("/alerts/settings")
@login_required
def settings():
    return _settings_page()


@bp.post("/alerts/settings")
@login_required
def settings_save():
    typed = {s.kind: {c: request.form.get(f"{s.kind}-{c}", "off") for c in CHANNELS}
             for s in attention.sources_for(current_user)}
    try:
        services.settings_set(channels=typed, webhook_url=request.form.get("webhook_url", ""), by=current_user)
    except DomainError as exc:
        return _settings_page(exc, typed), exc.status
    flash("Alert settings saved.", "success")
    return redirect(url_for("attention.settings"))


@bp.get("/alerts")
@login_required
def alerts():
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    return render_template("attention/alerts.html", page=selectors.alerts_page(current_user, page),
                           deliveries=selectors.deliveries(current_user))


@bp.post("/alerts/read")
@login_required
def alerts_read():
    services.alerts_read(by=current_user)
    return redirect(url_for("attention.alerts"))
