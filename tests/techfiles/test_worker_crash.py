"""kill -9 a real worker in the middle of a collection: another worker resumes it by itself, and no
finished unit is made (or charged) twice."""
from __future__ import annotations

import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import func, select

from app.core.database import write_intent
from app.core.queue import all_queues
from app.extensions import db
from app.techfiles.collections import collection_start
from app.techfiles.models import Collection, CollectionItem, CollectionStatus
from tests.techfiles.helpers import PHOTO_FILES, make_product
from tests.workers import start_worker, wait_until, worker_env  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
LEASE = 3


def _fresh(query):
    db.session.rollback()  # a new snapshot each poll: the workers write from other processes
    return db.session.execute(query).first()


def test_killed_worker_collection_is_resumed_by_another(app, org, manager, worker_env, start_worker):  # noqa: F811
    app.config.update(TECHFILES_LEASE_SECONDS=LEASE)
    worker_env.update(TECHFILES_LEASE_SECONDS=str(LEASE))
    ns = app.config["REDIS_NAMESPACE"]
    victim = start_worker(f"{ns}-victim")
    redis = Redis.from_url(app.config["REDIS_URL"])
    wait_until(lambda: {w.name for q in all_queues() for w in Worker.all(connection=redis, queue=q)}, 60)
    # Written as the requests that do it write (BEGIN IMMEDIATE): a transaction that reads and then
    # writes fails at once in SQLite when the running worker committed in between.
    db.session.rollback()
    with write_intent():
        product = make_product(org, manager, photos=PHOTO_FILES * 4)  # 8 photos × 3 steps + 2: seconds of work
        c = collection_start(org_id=org.id, product_id=product.id, by=manager)
    collection_id = c.id
    wait_until(lambda: (_fresh(select(func.count()).select_from(CollectionItem)
                               .where(CollectionItem.collection_id == collection_id)) or [0])[0] >= 2, 90)
    victim.kill()
    row = _fresh(select(Collection.status, Collection.progress).where(Collection.id == collection_id))
    assert row.status == CollectionStatus.RUNNING and row.progress < 100, "the victim finished before it was killed"
    units_before = _fresh(select(func.count()).select_from(CollectionItem)
                          .where(CollectionItem.collection_id == collection_id))[0]

    start_worker(f"{ns}-survivor")
    done = wait_until(lambda: _fresh(select(Collection.status, Collection.attempts).where(
        Collection.id == collection_id, Collection.status == CollectionStatus.COMPLETED)), 120)
    assert done.attempts == 2  # the victim's run, then the survivor's
    db.session.rollback()
    items = db.session.execute(select(CollectionItem.unit_key, CollectionItem.position)
                               .where(CollectionItem.collection_id == collection_id)).all()
    # Every unit once (a close-up unit makes two files; the category sheet and the complete pack one each):
    # the victim's finished units were not made again.
    assert len({unit for unit, _ in items}) == 3 * 8 + 2 and len(items) == len(set(items)) == 8 + 2 * 8 + 8 + 2
    assert units_before <= len(items)
