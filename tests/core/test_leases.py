"""The lease engine on its own: claims never overlap (processes racing for the same rows), leases
renew and expire, expired rows go back, and every domain's sweeper runs from the one sweep job."""
from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta

from sqlalchemy import func, select

from app.batches.models import BatchRow, RowStatus
from app.core import leases
from app.core.models import utcnow
from app.extensions import db
from tests.batches.helpers import make_batch

ROWS = 600


def _race(url: str, redis_url: str, worker: str, batch_id: int, results, start) -> None:
    """One process claiming chunks of 5 until none is left (what a worker's chunk job does)."""
    from app import create_app
    from app.core.database import write_intent

    spec = leases.Leased(BatchRow, lambda: 60, holder="claimed_by", lease_until="lease_expires_at")
    mine: list[int] = []
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "TESTING": True})
    with app.app_context():
        start.wait(60)  # every racer ready before the first claim
        while True:
            with write_intent():
                ids = leases.claim(spec, holder=worker, ready=RowStatus.PENDING.value,
                                   claimed=RowStatus.CLAIMED.value, where=(BatchRow.batch_id == batch_id,), limit=5)
                db.session.commit()
            if not ids:
                break
            mine += ids
            time.sleep(0.005)  # let the others in: the point is that they race
        db.engine.dispose()
    results.put((worker, mine))


def test_processes_racing_for_the_same_rows_never_claim_one_twice(app, org, manager):
    batch = make_batch(org, manager, ROWS)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.commit()
    ctx = multiprocessing.get_context("spawn")
    results, start = ctx.Queue(), ctx.Barrier(4)
    racers = [ctx.Process(target=_race, args=(url, app.config["REDIS_URL"], f"racer-{n}", batch.id, results, start))
              for n in range(4)]
    for p in racers:
        p.start()
    claimed = dict(results.get(timeout=120) for _ in racers)
    for p in racers:
        p.join(30)
    everything = [i for ids in claimed.values() for i in ids]
    assert len(everything) == len(set(everything)) == ROWS  # each row once, none left out
    assert sum(1 for ids in claimed.values() if ids) >= 2  # they really raced
    db.session.rollback()  # a fresh snapshot: the racers wrote from other processes
    holders = dict(db.session.execute(select(BatchRow.claimed_by, func.count()).where(BatchRow.batch_id == batch.id)
                                      .group_by(BatchRow.claimed_by)).all())
    assert holders == {w: len(ids) for w, ids in claimed.items() if ids}


def test_renew_expire_and_release(app, org, manager):
    batch = make_batch(org, manager, 6)
    spec = leases.Leased(BatchRow, lambda: 30, holder="claimed_by", lease_until="lease_expires_at")
    now = utcnow()
    ids = leases.claim(spec, holder="w1", ready="pending", claimed="claimed", where=(BatchRow.batch_id == batch.id,),
                       limit=4, now=now)
    db.session.commit()
    assert len(ids) == 4
    later = now + timedelta(seconds=31)
    assert [i for i, _ in leases.expired(spec, held=("claimed",), now=later)] == ids
    assert leases.renew(spec, holder="w1", held=("claimed",), ids=ids[:2], now=now + timedelta(seconds=20)) == 2
    assert {i for i, h in leases.expired(spec, held=("claimed",), now=later)} == set(ids[2:])
    back = leases.release_expired(spec, held=("claimed",), to_status="pending", now=later)
    db.session.commit()
    assert {r[0] for r in back} == set(ids[2:])
    assert leases.release(spec, holder="w1", held=("claimed",), to_status="pending") == 2
    db.session.commit()
    statuses = db.session.scalars(select(BatchRow.status).where(BatchRow.batch_id == batch.id)).all()
    assert set(statuses) == {"pending"}


def test_every_domain_registers_its_sweeper(app):
    assert {"pipeline", "batches", "techfiles"} <= set(leases.sweepers())
    report = leases.sweep()
    assert report == {name: False for name in leases.sweepers()}  # nothing in flight: no new sweep scheduled
