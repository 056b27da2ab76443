"""Template globals and filters shared by every page."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from flask import request, url_for
from flask_login import current_user

from app.core import readable
from app.core.nav import current_nav, nav_for


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """UTC text; app.js rewrites <time data-local> to the reader's time zone."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(fmt) + " UTC"


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _money(amount: Decimal | None, currency: str | None = None) -> str:
    if amount is None:
        return "—"
    text = f"{Decimal(amount):,.2f}"
    return f"{text} {currency}" if currency else text


def _ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = int((datetime.now(UTC) - value).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{max(seconds, 0)} s ago"


def url_with(endpoint: str, **updates) -> str:
    """The URL of `endpoint` keeping the current query (filters, search) with some values changed."""
    args = {**(request.view_args or {}), **request.args.to_dict(), **updates}
    return url_for(endpoint, **{k: v for k, v in args.items() if v not in (None, "")})


def init_app(app) -> None:
    app.jinja_env.filters.update(when=_when, iso=_iso, money=_money, ago=_ago)
    app.jinja_env.globals["url_with"] = url_with
    from app.core.events import now_ms

    app.jinja_env.globals["events_since"] = now_ms
    from app.core.ai_ledger import money_text, template_summary

    app.jinja_env.globals.update(ai_cost_summary=template_summary, ai_money=money_text, current_nav=current_nav,
                                 flat_fields=readable.flat_fields, field_changes=readable.field_changes)
    app.jinja_env.filters["pretty_json"] = readable.pretty_json
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        if current_user and current_user.is_authenticated:
            return {"main_nav": nav_for(current_user), "admin_nav": nav_for(current_user, "admin")}
        return {"main_nav": [], "admin_nav": []}
