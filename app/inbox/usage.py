"""Metering of external text-model calls, the monthly budget, and the figures behind the usage chart."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from app.core import audit
from app.core.errors import InvalidInput
from app.core.models import utcnow
from app.extensions import db
from app.inbox.review_models import Budget, UsageRecord


def month_start(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def month_spend(org_id: int, now: datetime | None = None) -> Decimal:
    """What external calls cost this calendar month (UTC)."""
    total = db.session.scalar(select(func.coalesce(func.sum(UsageRecord.cost), 0)).where(
        UsageRecord.organisation_id == org_id, UsageRecord.created_at >= month_start(now)))
    return Decimal(str(total or 0))


def budget_for(org_id: int) -> Budget | None:
    return db.session.scalar(select(Budget).where(Budget.organisation_id == org_id))


def budget_state(org_id: int) -> dict:
    """{spend, budget, level: none|ok|warning|stopped} for this month."""
    spend, budget = month_spend(org_id), budget_for(org_id)
    level = "none"
    if budget is not None:
        level = "stopped" if spend >= budget.hard_limit else "warning" if spend >= budget.warning_amount else "ok"
    return {"spend": spend, "budget": budget, "level": level}


def external_allowed(org_id: int) -> tuple[bool, str]:
    """May the external text model be called now? (False with the reason at the hard limit.)"""
    state = budget_state(org_id)
    if state["level"] == "stopped":
        b = state["budget"]
        return False, (f"Monthly budget reached ({state['spend']:.2f} of {b.hard_limit} {b.currency}); "
                       "the offline extractor was used.")
    return True, ""


def _amount(value, label: str, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        raise InvalidInput(f"{label} must be a number such as 25.00.", field=field) from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("1000000"):
        raise InvalidInput(f"{label} must be between 0 and 1,000,000.", field=field)
    return amount.quantize(Decimal("0.01"))


def budget_set(*, org_id: int, warning_amount, hard_limit, currency: str, by_user_id: int | None) -> Budget:
    """Set the monthly warning level and hard limit for external text-model spending."""
    warning = _amount(warning_amount, "The warning level", "warning_amount")
    hard = _amount(hard_limit, "The hard limit", "hard_limit")
    if warning > hard:
        raise InvalidInput("The warning level must not be above the hard limit.", field="warning_amount")
    currency = (currency or "USD").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput("The currency is a three-letter code such as USD.", field="currency")
    budget = budget_for(org_id) or Budget(organisation_id=org_id)
    before = None if budget.id is None else {"warning": str(budget.warning_amount), "hard": str(budget.hard_limit)}
    budget.warning_amount, budget.hard_limit, budget.currency = warning, hard, currency
    db.session.add(budget)
    db.session.flush()
    audit.record(org_id=org_id, actor_id=by_user_id, action="inbox.budget_set", object_type="budget",
                 object_id=budget.id, before=before, after={"warning": str(warning), "hard": str(hard)})
    db.session.commit()
    return budget


def record_usage(*, org_id: int, provider: str, message_id: int | None, tokens_in: int, tokens_out: int,
                 cost: Decimal, currency: str, ok: bool) -> UsageRecord:
    """Meter one external call (the caller's transaction commits it)."""
    row = UsageRecord(organisation_id=org_id, provider=provider[:80], message_id=message_id, calls=1,
                      tokens_in=tokens_in, tokens_out=tokens_out, cost=cost, currency=currency, ok=ok)
    db.session.add(row)
    return row


def daily_usage(org_id: int, days: int = 30, today: date | None = None) -> list[dict]:
    """One row per day for the last `days` days: calls, tokens, cost (zeros where nothing happened)."""
    today = today or utcnow().date()
    start = today - timedelta(days=days - 1)
    rows = db.session.execute(select(UsageRecord.created_at, UsageRecord.calls, UsageRecord.tokens_in,
                                     UsageRecord.tokens_out, UsageRecord.cost).where(
        UsageRecord.organisation_id == org_id,
        UsageRecord.created_at >= datetime(start.year, start.month, start.day, tzinfo=UTC)))
    by_day = {start + timedelta(days=i): {"calls": 0, "tokens": 0, "cost": Decimal("0")} for i in range(days)}
    for when, calls, t_in, t_out, cost in rows:
        bucket = by_day.get(when.date())
        if bucket is not None:
            bucket["calls"] += calls
            bucket["tokens"] += t_in + t_out
            bucket["cost"] += Decimal(str(cost))
    return [{"day": d, **v} for d, v in sorted(by_day.items())]


def provider_totals(org_id: int) -> list[dict]:
    """This month's calls, tokens and cost per provider."""
    rows = db.session.execute(select(UsageRecord.provider, func.sum(UsageRecord.calls),
                                     func.sum(UsageRecord.tokens_in + UsageRecord.tokens_out),
                                     func.sum(UsageRecord.cost)).where(
        UsageRecord.organisation_id == org_id, UsageRecord.created_at >= month_start())
        .group_by(UsageRecord.provider).order_by(UsageRecord.provider))
    return [{"provider": p, "calls": int(c or 0), "tokens": int(t or 0), "cost": Decimal(str(cost or 0))}
            for p, c, t, cost in rows]


def chart(days: list[dict], width: int = 720, height: int = 180, key: str = "cost") -> dict:
    """Bar geometry for the server-rendered SVG chart of `key` per day."""
    peak = max((float(d[key]) for d in days), default=0.0)
    slot = width / max(len(days), 1)
    bars = []
    for i, d in enumerate(days):
        value = float(d[key])
        h = 0 if peak == 0 else max(1.0, (height - 20) * value / peak) if value else 0
        bars.append({"x": round(i * slot + 1, 1), "y": round(height - 16 - h, 1), "w": round(slot - 2, 1),
                     "h": round(h, 1), "day": d["day"], "value": d[key]})
    return {"bars": bars, "width": width, "height": height, "peak": peak, "key": key}
