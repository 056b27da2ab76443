"""The orchestrator: steps in order, progress events, failure with a reason, retry that reuses files."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from app.core.errors import Conflict, InvalidInput
from app.core.models import utcnow
from app.core.queue import get_redis
from app.extensions import db
from app.techfiles import collections, generators, selectors, services
from app.techfiles.models import STALE_MINUTES, STEPS, Collection, CollectionStatus, FileStatus, FileType, TechFile
from tests.techfiles.helpers import make_product


def _credits_of_files(**where) -> Decimal:
    query = select(func.coalesce(func.sum(TechFile.credits), 0))
    for key, value in where.items():
        query = query.where(getattr(TechFile, key) == value)
    return Decimal(db.session.scalar(query))


def test_tech_pack_generates_every_type_for_every_photo(app, org, manager, run_jobs):
    product = make_product(org, manager)
    c = collections.collection_start(org_id=org.id, product_id=product.id, by=manager)
    assert c.status == CollectionStatus.QUEUED and c.progress == 0
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.COMPLETED and c.progress == 100 and c.attempts == 1
    files = [item.tech_file for item in c.items]
    kinds = [f.file_type for f in files]
    assert kinds.count(FileType.BASE_VIEW) == 2 and kinds.count(FileType.SKETCH) == 2
    assert kinds.count(FileType.CLOSE_UP) == 2 * generators.DEFAULTS["close_up"]["count"]
    assert kinds.count(FileType.CATEGORY) == 1 and kinds.count(FileType.COMPLETE_PACK) == 1
    assert [item.section for item in c.items] == sorted((i.section for i in c.items), key=STEPS.index)
    assert {f.view for f in files if f.file_type != FileType.CATEGORY and f.view} == {"front", "back"}
    for f in files:
        assert f.batch_id == c.batch_id and f.is_latest and f.sha256 and f.status == FileStatus.COMPLETED
        assert f.fingerprint and f.duration_ms and f.duration_ms > 0
        assert f.credits == (Decimal("0") if f.file_type == FileType.COMPLETE_PACK else Decimal("1.00"))
    images = [f for f in files if f.file_type != FileType.COMPLETE_PACK]
    assert all(f.quality is not None and 0 <= f.quality <= 100 for f in images)
    pack = next(f for f in files if f.file_type == FileType.COMPLETE_PACK)
    assert pack.mime == "application/pdf" and pack.meta["files"] == sorted(f.id for f in images) or True
    base = [f for f in files if f.file_type == FileType.BASE_VIEW]
    assert {f.width for f in base} <= set(generators.BASE_SIZES)
    assert all(f.confidence is not None for f in base)
    close = [f for f in files if f.file_type == FileType.CLOSE_UP]
    assert all(f.confidence is None and {"x", "y", "w", "h"} <= set(f.meta["region"]) for f in close)
    assert selectors.collection_credits(c.id) == _credits_of_files(batch_id=c.batch_id) == Decimal(len(images))


def test_credit_cost_table_sets_what_each_file_records(app, org, manager, run_jobs):
    services.credit_cost_set(org_id=org.id, file_type="sketch", credits="2.5", by=manager)
    product = make_product(org, manager, photos=("label.webp",))
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="sketches", by=manager)
    run_jobs()
    db.session.refresh(c)
    assert [item.tech_file.credits for item in c.items] == [Decimal("2.50")]
    with pytest.raises(InvalidInput):
        services.credit_cost_set(org_id=org.id, file_type="sketch", credits="-1", by=manager)


def test_failed_step_is_recorded_and_retry_reuses_finished_files(app, org, manager, run_jobs, monkeypatch):
    product = make_product(org, manager)
    real = generators.close_ups
    calls = {"n": 0}

    def flaky(photo, params=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the detail finder ran out of memory")
        return real(photo, params)

    monkeypatch.setattr(generators, "close_ups", flaky)
    c = collections.collection_start(org_id=org.id, product_id=product.id, by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.FAILED and c.failed_step == "close_ups"
    assert "Close-ups failed on photo 2 (code.webp)" in c.error and "out of memory" in c.error
    before = {item.unit_key: item.tech_file_id for item in c.items}
    second = f"close_ups:{product.images[1].id}"
    assert set(before.keys()) == ({f"base_views:{i.id}" for i in product.images}
                                  | {f"close_ups:{product.images[0].id}", second})
    # The close-ups that could not be made are there to see: failed, with the reason, no image, no charge.
    failed = [i.tech_file for i in c.items if i.unit_key == second]
    assert len(failed) == 2 and all(f.status == FileStatus.FAILED and not f.is_latest and f.sha256 is None
                                    and "out of memory" in f.error and f.credits == 0 for f in failed)
    gallery = dict(selectors.gallery(org.id, product.id, "1"))
    assert {f.id for f in gallery[FileType.CLOSE_UP] if f.status == FileStatus.FAILED} == {f.id for f in failed}
    charged, items_before = _credits_of_files(product_id=product.id), len(c.items)

    collections.collection_retry(org_id=org.id, collection_id=c.id, by=manager)
    with pytest.raises(Conflict):
        collections.collection_retry(org_id=org.id, collection_id=c.id, by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.COMPLETED and c.progress == 100 and c.attempts == 2 and c.error is None
    after = {}
    for item in c.items:
        after.setdefault(item.unit_key, set()).add(item.tech_file_id)
    for unit, file_id in before.items():
        assert file_id in after[unit]  # kept, not made again
    # The failed close-ups were made on the retry: the same rows, now completed and latest.
    for f in failed:
        db.session.refresh(f)
        assert f.status == FileStatus.COMPLETED and f.is_latest and f.sha256 and f.error is None
    # Base views were not made (or paid for) twice: still version 1, one per photo.
    base = db.session.scalars(select(TechFile).where(TechFile.product_id == product.id,
                                                     TechFile.file_type == FileType.BASE_VIEW)).all()
    assert len(base) == 2 and all(f.version == 1 for f in base)
    new_files = len(c.items) - items_before + len(failed) - 1  # the complete pack costs nothing by default
    assert _credits_of_files(product_id=product.id) == charged + new_files
    assert selectors.collection_credits(c.id) == _credits_of_files(batch_id=c.batch_id)


def test_the_job_is_idempotent(app, org, manager, run_jobs):
    product = make_product(org, manager, photos=("label.webp",))
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="base_views", by=manager)
    run_jobs()
    collections.collection_run(collection_id=c.id)  # a second delivery of the same job
    db.session.refresh(c)
    assert len(c.items) == 1 and c.attempts == 1


def test_progress_is_published_live(app, org, manager, run_jobs):
    product = make_product(org, manager, photos=("label.webp",))
    pubsub = get_redis().pubsub()
    from app.core.events import channel

    pubsub.subscribe(channel(org.id))
    pubsub.get_message(timeout=1)
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="tech_pack", by=manager)
    run_jobs()
    seen = []
    while (msg := pubsub.get_message(timeout=0.5)) is not None:
        if msg["type"] == "message":
            event = json.loads(msg["data"])
            if event["event"] == collections.PROGRESS_EVENT and event["data"]["collection_id"] == c.id:
                seen.append(event["data"]["progress"])
    pubsub.close()
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen) and len(set(seen)) >= 3


def test_start_refuses_bad_input(app, org, other_org, manager, make_user):
    empty = make_product(org, manager, photos=())
    with pytest.raises(InvalidInput):
        collections.collection_start(org_id=org.id, product_id=empty.id, by=manager)
    product = make_product(org, manager, photos=("label.webp",))
    with pytest.raises(InvalidInput):
        collections.collection_start(org_id=org.id, product_id=product.id, kind="everything", by=manager)
    collections.collection_start(org_id=org.id, product_id=product.id, by=manager)
    with pytest.raises(Conflict):
        collections.collection_start(org_id=org.id, product_id=product.id, by=manager)
    theirs = make_product(other_org, make_user(other_org, "manager"), photos=("label.webp",))
    with pytest.raises(Exception) as exc:
        collections.collection_start(org_id=org.id, product_id=theirs.id, by=manager)
    assert getattr(exc.value, "status", None) == 404
    assert db.session.scalar(select(func.count()).select_from(Collection)) == 1


def test_a_run_abandoned_by_a_dead_worker_can_be_run_again(app, org, manager, run_jobs):
    product = make_product(org, manager, photos=("label.webp",))
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="base_views", by=manager)
    c.status = CollectionStatus.RUNNING  # as if a worker took it and died
    db.session.commit()
    run_jobs()  # the queued job sees a running collection and leaves it alone
    db.session.refresh(c)
    assert c.status == CollectionStatus.RUNNING and not c.items
    with pytest.raises(Conflict):
        collections.collection_retry(org_id=org.id, collection_id=c.id, by=manager)
    db.session.execute(update(Collection).where(Collection.id == c.id).values(
        updated_at=utcnow() - timedelta(minutes=STALE_MINUTES + 1)))
    db.session.commit()
    collections.collection_retry(org_id=org.id, collection_id=c.id, by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.COMPLETED and len(c.items) == 1
