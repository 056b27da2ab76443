"""Order numbers such as SO-2026-000123: per organisation and year, no gaps, no duplicates.

The counter row is bumped with one `UPDATE ... RETURNING` inside the transaction that creates the
order. The row lock (PostgreSQL) or the write lock (SQLite, BEGIN IMMEDIATE) makes concurrent
creators wait for each other, and a creation that rolls back takes its number back with it.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.core.models import utcnow
from app.extensions import db
from app.orders.models import OrderSequence

PREFIX = "SO"


def format_number(year: int, value: int) -> str:
    return f"{PREFIX}-{year}-{value:06d}"


def _ensure_counter(org_id: int, year: int) -> None:
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(OrderSequence).values(organisation_id=org_id, year=year, value=0)
                       .on_conflict_do_nothing(index_elements=["organisation_id", "year"]))


def next_order_number(org_id: int, year: int | None = None) -> str:
    """Take the organisation's next number for the year (inside the caller's transaction)."""
    year = year or utcnow().year
    bump = (update(OrderSequence)
            .where(OrderSequence.organisation_id == org_id, OrderSequence.year == year)
            .values(value=OrderSequence.value + 1)
            .returning(OrderSequence.value)
            .execution_options(synchronize_session=False))
    value = db.session.execute(bump).scalar()
    if value is None:  # first order of the year: create the counter (a racing creator may win; fine)
        _ensure_counter(org_id, year)
        value = db.session.execute(bump).scalar_one()
    return format_number(year, value)
