"""A work horse's pool does not ping the database before each checkout (app.core.worker._no_pre_ping)."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from app.core.worker import _no_pre_ping


def _pings(engine) -> int:
    seen = []
    ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda connection: seen.append(1) or ping(connection)
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    return len(seen)


def test_the_horse_pool_checks_out_without_a_ping(tmp_path):
    pinging = create_engine(f"sqlite:///{tmp_path / 'a.db'}", pool_pre_ping=True)
    assert _pings(pinging) == 2  # every checkout of a pooled connection after the first
    horse = create_engine(f"sqlite:///{tmp_path / 'b.db'}", pool_pre_ping=True)
    horse.dispose(close=False)
    _no_pre_ping(horse)
    assert _pings(horse) == 0
    horse.dispose()  # a rerun after the database went away starts a new pool: still without pings
    assert _pings(horse) == 0
