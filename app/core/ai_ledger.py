"""The record of every model call, the organisation's monthly AI budget, and the sums pages show.

`record` writes one `ai_calls` row on its own short transaction, so a call is on the books even
when the work it served later fails or rolls back, and no caller's transaction is held open
while a model thinks. `allowed` is the budget check the AI client makes before every call.
Months are calendar months in UTC. Spend counts calls in the budget's currency only; calls
priced in another currency are listed beside it, never converted with a guessed rate.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, case, func, insert, or_, select, update

from app.core import audit
from app.core.ai_models import CAPABILITIES, AICall, Budget
from app.core.database import write_intent
from app.core.errors import InvalidInput
from app.core.models import User, user_id_of, utcnow
from app.extensions import db

ZERO = Decimal("0")
SIX_PLACES = Decimal("0.000001")
# Object types whose AI cost is gathered from other objects (an order: the messages it was read
# from). Domains register a resolver returning [(object_type, [ids])]; core imports no domain.
SCOPES: dict[str, Callable[[int, int], list[tuple[str, list[int]]]]] = {}


@dataclass(frozen=True)
class Served:
    """The organisation paying for a call, the object it served and the page that object belongs to."""

    org_id: int
    object_type: str | None = None
    object_id: int | None = None
    parent_type: str | None = None
    parent_id: int | None = None


def register_scope(object_type: str, resolver: Callable[[int, int], list[tuple[str, list[int]]]]) -> None:
    """Let `object_type` pages count the calls of the objects `resolver(org_id, id)` names."""
    SCOPES[object_type] = resolver


def record(*, served: Served, capability: str, provider: str, model: str = "", ok: bool,
           prompt_tokens: int = 0, completion_tokens: int = 0, cost: Decimal | None = None,
           currency: str = "USD", duration_ms: int = 0, error: str | None = None, attempts: int = 1,
           over_budget: bool = False, created_at: datetime | None = None) -> None:
    """Write one ai_calls row at once, on its own transaction."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown AI capability {capability!r}")
    values = dict(
        organisation_id=served.org_id, capability=capability, provider=provider[:80], model=(model or "")[:120],
        ok=ok, over_budget=over_budget, retried=attempts > 1, attempts=attempts, prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens, cost=cost, currency=(currency or "USD")[:3].upper(),
        duration_ms=duration_ms, error=(error or None) and error[:2000], object_type=served.object_type,
        object_id=served.object_id, parent_type=served.parent_type, parent_id=served.parent_id,
        created_at=created_at or utcnow())
    with write_intent(), db.engine.begin() as conn:
        conn.execute(insert(AICall).values(**values))


def _values(provider: str, model: str, ok: bool, prompt_tokens: int,
            completion_tokens: int, cost: Decimal | None, currency: str, duration_ms: int, error: str | None,
            attempts: int, over_budget: bool) -> dict:
    return dict(
        ok=ok, over_budget=over_budget, retried=attempts > 1, attempts=attempts, prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens, cost=cost, currency=(currency or "USD")[:3].upper(),
        duration_ms=duration_ms, error=(error or None) and error[:2000], provider=provider[:80],
        model=(model or "")[:120])


# Failed: ended without a usable answer, or cut short by a dying worker (not merely in flight).
FAILED = and_(AICall.ok.is_(False), or_(AICall.finished.is_(True), AICall.error.is_not(None)))
UNFINISHED = "no answer recorded: the worker stopped during the call (the provider may have charged for it)"


def record_start(*, served: Served, capability: str, provider: str, model: str = "", currency: str = "USD") -> int:
    """Write the row of a call about to be sent (unfinished until `record_end`); its id.

    A call for the same object left unfinished by a worker that died is marked as such (once), and
    the new row says it repeats it."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown AI capability {capability!r}")
    with write_intent(), db.engine.begin() as conn:
        repeat_of = None
        if served.object_id is not None:
            repeat_of = conn.scalar(select(AICall.id).where(
                AICall.organisation_id == served.org_id, AICall.object_type == served.object_type,
                AICall.object_id == served.object_id, AICall.capability == capability,
                AICall.finished.is_(False), AICall.error.is_(None)).order_by(AICall.id.desc()).limit(1))
        if repeat_of is not None:
            conn.execute(update(AICall).where(AICall.id == repeat_of).values(error=UNFINISHED))
        return conn.execute(insert(AICall).values(
            organisation_id=served.org_id, capability=capability, provider=provider[:80], model=(model or "")[:120],
            ok=False, finished=False, repeat_of_id=repeat_of, currency=(currency or "USD")[:3].upper(),
            object_type=served.object_type, object_id=served.object_id, parent_type=served.parent_type,
            parent_id=served.parent_id, created_at=utcnow())).inserted_primary_key[0]


def record_end(call_id: int, *, served: Served, capability: str, provider: str, model: str = "", ok: bool,
               prompt_tokens: int = 0, completion_tokens: int = 0, cost: Decimal | None = None,
               currency: str = "USD", duration_ms: int = 0, error: str | None = None, attempts: int = 1,
               over_budget: bool = False) -> None:
    """Write how the call started by `record_start` ended."""
    values = _values(provider, model, ok, prompt_tokens, completion_tokens, cost, currency,
                     duration_ms, error, attempts, over_budget)
    with write_intent(), db.engine.begin() as conn:
        conn.execute(update(AICall).where(AICall.id == call_id).values(finished=True, **values))


# --- the budget --------------------------------------------------------------------------------

def month_start(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def budget_for(org_id: int, conn=None) -> Budget | None:
    """The organisation's budget row (through `conn` when given, so no session transaction starts)."""
    if conn is None:
        return db.session.scalar(select(Budget).where(Budget.organisation_id == org_id))
    row = conn.execute(select(Budget.currency, Budget.warning_amount, Budget.hard_limit)
                       .where(Budget.organisation_id == org_id)).first()
    return None if row is None else Budget(organisation_id=org_id, currency=row[0], warning_amount=row[1],
                                           hard_limit=row[2])


def spend_by_currency(org_id: int, now: datetime | None = None, conn=None) -> dict[str, Decimal]:
    """This month's cost per currency (calls without a price count as nothing)."""
    run = conn or db.session
    rows = run.execute(select(AICall.currency, func.sum(AICall.cost)).where(
        AICall.organisation_id == org_id, AICall.created_at >= month_start(now)).group_by(AICall.currency))
    return {currency: Decimal(str(total or 0)) for currency, total in rows}


def month_spend(org_id: int, currency: str = "USD", now: datetime | None = None, conn=None) -> Decimal:
    """This month's AI spend in one currency."""
    return spend_by_currency(org_id, now, conn).get(currency.upper(), ZERO)


def budget_state(org_id: int, now: datetime | None = None, conn=None) -> dict:
    """{spend, currency, other, budget, level: none|ok|warning|stopped} for this month."""
    budget, spent = budget_for(org_id, conn), spend_by_currency(org_id, now, conn)
    currency = budget.currency if budget else max(spent, key=spent.get, default="USD")
    spend = spent.get(currency, ZERO)
    level = "none"
    if budget is not None:
        level = "stopped" if spend >= budget.hard_limit else "warning" if spend >= budget.warning_amount else "ok"
    other = {c: v for c, v in sorted(spent.items()) if c != currency and v}
    return {"spend": spend, "currency": currency, "other": other, "budget": budget, "level": level}


def allowed(org_id: int, capability: str) -> tuple[bool, str]:
    """May a model of this capability be called for the organisation now? (False, why) at the hard limit."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown AI capability {capability!r}")
    with db.engine.connect() as conn:
        state = budget_state(org_id, conn=conn)
    if state["level"] != "stopped":
        return True, ""
    b = state["budget"]
    return False, f"Monthly AI budget reached ({money_text(state['spend'])} of {b.hard_limit:.2f} {b.currency})"


def _amount(value, label: str, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        raise InvalidInput(f"{label} must be a number such as 25.00.", field=field) from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("1000000"):
        raise InvalidInput(f"{label} must be between 0 and 1,000,000.", field=field)
    return amount.quantize(Decimal("0.01"))


def budget_set(*, org_id: int, warning_amount, hard_limit, currency: str, by: User | None) -> Budget:
    """Set the organisation's monthly warning level and hard limit for all AI spending."""
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
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="ai.budget_set", object_type="budget",
                 object_id=budget.id, before=before, after={"warning": str(warning), "hard": str(hard)})
    db.session.commit()
    return budget


# --- what pages show -----------------------------------------------------------------------------

def _object_filter(org_id: int, object_type: str, object_id: int):
    wanted = [and_(AICall.object_type == object_type, AICall.object_id == object_id),
              and_(AICall.parent_type == object_type, AICall.parent_id == object_id)]
    resolver = SCOPES.get(object_type)
    for kind, ids in (resolver(org_id, object_id) if resolver else []):
        if ids:
            wanted.append(and_(AICall.object_type == kind, AICall.object_id.in_(ids)))
    return and_(AICall.organisation_id == org_id, or_(*wanted))


def object_costs(org_id: int, object_type: str, object_id: int) -> dict:
    """An object's AI calls: counts, cost per currency, and why the last ones failed or were not sent."""
    where = _object_filter(org_id, object_type, object_id)
    rows = db.session.execute(select(
        AICall.currency, func.count(AICall.id), func.sum(case((FAILED, 1), else_=0)),
        func.sum(case((AICall.over_budget.is_(True), 1), else_=0)), func.sum(AICall.cost),
        func.sum(case((AICall.cost.is_(None), 1), else_=0))).where(where).group_by(AICall.currency)).all()
    out = {"calls": 0, "failed": 0, "over_budget": 0, "unpriced": 0, "costs": {}, "notes": []}
    for currency, calls, failed, refused, cost, unpriced in rows:
        out["calls"] += calls
        out["failed"] += int(failed or 0) - int(refused or 0)
        out["over_budget"] += int(refused or 0)
        out["unpriced"] += int(unpriced or 0)
        out["costs"][currency] = Decimal(str(cost or 0))
    if out["failed"] or out["over_budget"]:
        latest = db.session.execute(select(AICall.capability, AICall.error, AICall.over_budget).where(
            where, FAILED).order_by(AICall.id.desc()).limit(20))
        for capability, error, refused in latest:
            note = {"capability": capability, "error": error or "failed", "over_budget": refused}
            if note not in out["notes"]:
                out["notes"].append(note)
        out["notes"] = out["notes"][:3]
    return out


def money_text(amount: Decimal | None) -> str:
    """A cost with as many decimals as it needs, at least two: 12.40, 0.105, 0.000204."""
    if amount is None:
        return "—"
    text = format(Decimal(amount).quantize(SIX_PLACES), "f").rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def template_summary(object_type: str, object_id: int) -> dict | None:
    """`object_costs` for the signed-in person's organisation (the ai_cost macro calls this)."""
    from flask_login import current_user

    if not getattr(current_user, "is_authenticated", False) or object_id is None:
        return None
    return object_costs(current_user.organisation_id, object_type, int(object_id))


def month_rows(org_id: int, now: datetime | None = None) -> list[dict]:
    """This month's calls grouped by capability, object type, provider, model and currency."""
    keys = (AICall.capability, AICall.object_type, AICall.provider, AICall.model, AICall.currency)
    rows = db.session.execute(select(
        *keys, func.count(AICall.id), func.sum(case((FAILED, 1), else_=0)),
        func.sum(case((AICall.over_budget.is_(True), 1), else_=0)),
        func.sum(case((AICall.retried.is_(True), 1), else_=0)),
        func.sum(AICall.prompt_tokens + AICall.completion_tokens), func.sum(AICall.cost))
        .where(AICall.organisation_id == org_id, AICall.created_at >= month_start(now))
        .group_by(*keys).order_by(*keys))
    return [{"capability": cap, "object_type": kind or "none", "provider": provider, "model": model,
             "currency": currency, "calls": int(calls), "failed": int(failed or 0) - int(refused or 0),
             "over_budget": int(refused or 0), "retried": int(retried or 0), "tokens": int(tokens or 0),
             "cost": Decimal(str(cost or 0))}
            for cap, kind, provider, model, currency, calls, failed, refused, retried, tokens, cost in rows]


def daily(org_id: int, days: int = 30, today: date | None = None) -> list[dict]:
    """One row per day for the last `days` days: calls and cost per capability (zeros where idle)."""
    today = today or utcnow().date()
    start = today - timedelta(days=days - 1)
    rows = db.session.execute(select(AICall.created_at, AICall.capability, AICall.cost, AICall.over_budget).where(
        AICall.organisation_id == org_id,
        AICall.created_at >= datetime(start.year, start.month, start.day, tzinfo=UTC)))
    by_day = {start + timedelta(days=i): _empty_day() for i in range(days)}
    for when, capability, cost, refused in rows:
        bucket = by_day.get(when.date())
        if bucket is None or refused:
            continue
        bucket["calls"] += 1
        bucket["cost"] += Decimal(str(cost or 0))
        bucket["by_capability"][capability]["calls"] += 1
        bucket["by_capability"][capability]["cost"] += Decimal(str(cost or 0))
    return [{"day": d, **v} for d, v in sorted(by_day.items())]


def _empty_day() -> dict:
    return {"calls": 0, "cost": ZERO, "by_capability": {c: {"calls": 0, "cost": ZERO} for c in CAPABILITIES}}
