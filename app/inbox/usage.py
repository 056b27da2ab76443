"""The usage page's figures: the organisation's AI spend by capability and object type, and its budget.

The calls themselves are recorded by app.core.ai (every capability: vision, price, text, image)
and the budget is the organisation's (app.core.ai_ledger); this module shapes them for the page,
which lives in the inbox because the budget started here.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from app.core import ai, ai_ledger
from app.core.ai_models import CAPABILITIES, Budget
from app.core.models import User
from app.extensions import db
from app.inbox.review_models import Extraction

COLOURS = {"vision": "#3b6ea5", "price": "#5d9442", "text": "#c27c2c", "image": "#8e5ea2"}
LABELS = {"vision": "Vision", "price": "Prices", "text": "Text", "image": "Images"}
OBJECT_LABELS = {"product": "Products", "batch_row": "Batch rows", "collection": "Tech-file collections",
                 "tech_file": "Tech files", "message": "Messages", "none": "No object"}


def _order_messages(org_id: int, order_id: int) -> list[tuple[str, list[int]]]:
    """An order's AI cost is the reading of the messages it was made from."""
    ids = db.session.scalars(select(Extraction.message_id).where(
        Extraction.organisation_id == org_id, Extraction.order_id == order_id)).all()
    return [("message", list(ids))]


ai.register_scope("order", _order_messages)


def month_start(now: datetime | None = None) -> datetime:
    return ai_ledger.month_start(now)


def budget_for(org_id: int) -> Budget | None:
    return ai_ledger.budget_for(org_id)


def budget_state(org_id: int) -> dict:
    """{spend, currency, other, budget, level: none|ok|warning|stopped} for this month, over every capability."""
    return ai_ledger.budget_state(org_id)


def budget_set(*, org_id: int, warning_amount, hard_limit, currency: str, by: User | None) -> Budget:
    """Set the organisation's monthly warning level and hard limit for all AI spending."""
    return ai_ledger.budget_set(org_id=org_id, warning_amount=warning_amount, hard_limit=hard_limit,
                                currency=currency, by=by)


def daily_usage(org_id: int, days: int = 30, today: date | None = None) -> list[dict]:
    """One row per day for the last `days` days: calls and cost, in all and per capability."""
    return ai_ledger.daily(org_id, days, today)


class MonthRows(list):
    """This month's rows, with their sums per capability and per object type beside them."""

    def __init__(self, rows: list[dict]):
        super().__init__(rows)
        self.by_capability = totals_by(rows, "capability")
        self.by_object_type = totals_by(rows, "object_type")


def provider_totals(org_id: int) -> MonthRows:
    """This month's calls by capability, object type, provider, model and currency."""
    rows = ai_ledger.month_rows(org_id)
    for row in rows:
        row["capability_label"] = LABELS.get(row["capability"], row["capability"])
        row["object_label"] = OBJECT_LABELS.get(row["object_type"], row["object_type"])
    return MonthRows(rows)


def totals_by(rows: list[dict], key: str) -> list[dict]:
    """`provider_totals` rows summed per `key` (capability or object type) and currency."""
    out: dict[tuple, dict] = {}
    for row in rows:
        label = row["capability_label"] if key == "capability" else row["object_label"]
        total = out.setdefault((label, row["currency"]), {"label": label, "currency": row["currency"], "calls": 0,
                                                          "failed": 0, "over_budget": 0, "tokens": 0,
                                                          "cost": Decimal("0"), "key": row[key]})
        for field in ("calls", "failed", "over_budget", "tokens", "cost"):
            total[field] += row[field]
    totals = sorted(out.values(), key=lambda t: (-t["cost"], t["label"]))
    return with_shares(totals)


def with_shares(totals: list[dict]) -> list[dict]:
    """Each total's share of its currency's spend (percent), for the page's bar chart beside the table."""
    spent: dict[str, Decimal] = {}
    for t in totals:
        spent[t["currency"]] = spent.get(t["currency"], Decimal("0")) + t["cost"]
    for t in totals:
        whole = spent[t["currency"]]
        t["share"] = round(float(t["cost"] * 100 / whole), 1) if whole else 0.0
    return totals


def chart(days: list[dict], width: int = 720, height: int = 180, key: str = "cost") -> dict:
    """Bar geometry for the server-rendered SVG chart of `key` per day, stacked by capability."""
    peak = max((float(d[key]) for d in days), default=0.0)
    slot = width / max(len(days), 1)
    bars = []
    for i, d in enumerate(days):
        base, segments = height - 16, []
        for capability in CAPABILITIES:
            value = d["by_capability"][capability][key]
            h = 0 if peak == 0 or not value else max(1.0, (height - 20) * float(value) / peak)
            if h:
                base -= h
                segments.append({"y": round(base, 1), "h": round(h, 1), "value": value, "capability": capability,
                                 "label": LABELS[capability], "colour": COLOURS[capability]})
        bars.append({"x": round(i * slot + 1, 1), "w": round(slot - 2, 1), "day": d["day"], "value": d[key],
                     "segments": segments})
    return {"bars": bars, "width": width, "height": height, "peak": peak, "key": key,
            "legend": [{"label": LABELS[c], "colour": COLOURS[c]} for c in CAPABILITIES]}
