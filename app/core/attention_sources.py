"""The core's own attention items: background jobs that failed, and the organisation's AI budget."""
from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from decimal import Decimal

from rq.job import Job
from rq.registry import FailedJobRegistry

from app.core import ai_ledger
from app.core.attention import Item, register_source
from app.core.queue import all_queues, get_redis

# --- failed jobs ---------------------------------------------------------------------------------

FAILED_SCAN_CAP = 500  # failed jobs looked at per queue (RQ keeps them FAILURE_TTL, 7 days)


def _aware(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _failed(org_id: int) -> list[Job]:
    """Failed jobs of this organisation and system jobs, newest first (as the Jobs page shows them)."""
    found = []
    for q in all_queues():
        ids = FailedJobRegistry(queue=q).get_job_ids(0, FAILED_SCAN_CAP - 1)
        for job in Job.fetch_many(ids, connection=get_redis()):
            owner = (job.meta or {}).get("organisation_id") if job is not None else -1
            if job is not None and owner in (None, org_id):
                found.append(job)
    return sorted(found, key=lambda j: _aware(j.ended_at) or datetime.min.replace(tzinfo=UTC), reverse=True)


def _job_item(job: Job) -> Item:
    result = job.latest_result()
    lines = [line for line in ((result.exc_string if result else "") or "").strip().splitlines() if line.strip()]
    why = f"Failed: {lines[-1].strip()[:200]}" if lines else "Failed"
    name = (job.func_name or "job").rsplit(".", 1)[-1].replace("_", " ")
    return Item(kind="failed_job", subject=job.id, title=f"Background job “{name}”", why=why, endpoint="admin.jobs",
                since=_aware(job.ended_at), level="error")


def _job_items(org_id: int, *, limit: int, offset: int = 0, exclude: Collection[str] = ()) -> list[Item]:
    jobs = [j for j in _failed(org_id) if j.id not in exclude]
    return [_job_item(j) for j in jobs[offset:offset + limit]]


def _job_find(org_id: int, subjects: Collection[str]) -> list[Item]:
    wanted = set(subjects)
    return [_job_item(j) for j in _failed(org_id) if j.id in wanted]


register_source("failed_job", label="Background jobs that failed", roles=("admin",),
                count=lambda org_id: len(_failed(org_id)), items=_job_items, find=_job_find,
                conditions=lambda org_id: {j.id for j in _failed(org_id)}, order=70)


# --- the AI budget -------------------------------------------------------------------------------

BUDGET_LEVELS = (50, 80, 100)  # alerts when the month's spend crosses these percentages of the hard limit


def _percent(state: dict) -> Decimal | None:
    budget = state["budget"]
    if budget is None:
        return None
    if not budget.hard_limit:
        return Decimal(100)
    return state["spend"] * 100 / budget.hard_limit


def _budget_item(org_id: int, subject: str, state: dict) -> Item:
    budget, percent = state["budget"], _percent(state)
    spent = f"{ai_ledger.money_text(state['spend'])} of {budget.hard_limit:.2f} {budget.currency}"
    level = "error" if state["level"] == "stopped" else "warning"
    _, _, crossed = subject.partition(":")
    if crossed:
        title = f"AI spend passed {crossed} % of the monthly budget"
    else:
        title = "AI budget used up" if state["level"] == "stopped" else "AI spend past the budget's warning level"
    why = f"{spent} spent this month ({percent:.0f} %)" + (
        ": every capability uses its offline path until the month ends or the limit is raised"
        if state["level"] == "stopped" else "")
    return Item(kind="budget", subject=subject, title=title, why=why, endpoint="inbox.usage_page", level=level,
                since=ai_ledger.month_start())


def _budget_now(org_id: int) -> tuple[str, dict]:
    return ai_ledger.month_start().strftime("%Y-%m"), ai_ledger.budget_state(org_id)


def _budget_items(org_id: int, *, limit: int, offset: int = 0, exclude: Collection[str] = ()) -> list[Item]:
    month, state = _budget_now(org_id)
    if state["level"] not in ("warning", "stopped") or month in exclude or offset > 0 or limit < 1:
        return []
    return [_budget_item(org_id, month, state)]


def _budget_find(org_id: int, subjects: Collection[str]) -> list[Item]:
    month, state = _budget_now(org_id)
    on = _budget_conditions(org_id, month, state) | ({month} if state["level"] in ("warning", "stopped") else set())
    return [_budget_item(org_id, s, state) for s in sorted(subjects) if s in on]


def _budget_conditions(org_id: int, month: str | None = None, state: dict | None = None) -> set[str]:
    if state is None:
        month, state = _budget_now(org_id)
    percent = _percent(state)
    if percent is None:
        return set()
    return {f"{month}:{level}" for level in BUDGET_LEVELS if percent >= level}


register_source("budget", label="AI budget past a threshold", roles=("manager",),
                count=lambda org_id: len(_budget_items(org_id, limit=1)), items=_budget_items, find=_budget_find,
                conditions=_budget_conditions, order=60)
