"""The PostgreSQL-only list indexes (migration 0030) stay in step with the queries they serve."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from app.extensions import db
from app.orders.statuses import IN_WORK

ROOT = Path(__file__).resolve().parents[2]


def _migration():
    path = ROOT / "migrations" / "versions" / "0030_postgresql_list_indexes.py"
    spec = importlib.util.spec_from_file_location("migration_0030", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_work_list_index_covers_exactly_the_statuses_in_work():
    assert set(re.findall(r"'(\w+)'", _migration().IN_WORK)) == {s.value for s in IN_WORK}


def test_autogenerate_leaves_the_postgresql_only_indexes_alone():
    env = (ROOT / "migrations" / "env.py").read_text()
    migration = _migration()
    for name, *_ in (*migration.TRIGRAM_INDEXES, *migration.WORK_LIST_INDEXES):
        assert f'"{name}"' in env


def test_on_postgresql_the_orders_search_can_use_its_trigram_index(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL-only indexes")
    with db.engine.connect() as conn:
        names = {r[0] for r in conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"))}
        conn.execute(text("SET enable_seqscan = off"))  # a tiny table: ask whether the index can serve at all
        plan = "\n".join(r[0] for r in conn.execute(text(
            "EXPLAIN SELECT id FROM orders WHERE lower(number) LIKE '%so-0001%'")))
    assert {"ix_orders_in_work_due", "ix_order_items_waiting"} <= names
    if "ix_orders_number_trgm" in names:  # pg_trgm is available on this server
        assert "ix_orders_number_trgm" in plan
