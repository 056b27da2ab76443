"""Claims, leases, heartbeats, retries, cancel/resume, limits: the row-job machinery."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.batches import processing as proc
from app.batches.models import Batch, BatchLog, BatchRow, BatchStatus, BatchWorker
from app.core.models import utcnow
from app.extensions import db
from tests.batches.helpers import make_batch, products_csv, upload_and_start


def _statuses(batch_id: int) -> dict[str, int]:
    rows = db.session.execute(select(BatchRow.status, func.count()).where(BatchRow.batch_id == batch_id)
                              .group_by(BatchRow.status)).all()
    return dict(rows)


def test_concurrent_claims_never_hand_out_a_row_twice(app, org, manager):
    batch_id = make_batch(org, manager, 300, max_jobs=8).id  # threads must not touch the test's session
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def claimer(name: str) -> None:
        with app.app_context():
            try:
                mine = claimed.setdefault(name, [])
                while True:
                    ids = proc.claim_rows(batch_id=batch_id, worker=name, limit=7)
                    if not ids:
                        break
                    assert len(ids) <= 7, len(ids)  # a claim never takes more than asked
                    mine.extend(ids)
            except BaseException as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == len(set(every)) == 300
    db.session.rollback()  # a fresh snapshot: the threads committed after ours began
    owners = dict(db.session.execute(select(BatchRow.id, BatchRow.claimed_by).where(BatchRow.batch_id == batch_id)).all())
    for name, ids in claimed.items():
        assert all(owners[i] == name for i in ids)
    assert db.session.scalar(select(func.count()).select_from(BatchWorker)) == 4  # each claim is a heartbeat


def test_max_concurrent_jobs_limits_claimers(org, manager):
    batch = make_batch(org, manager, 20, max_jobs=1)
    assert len(proc.claim_rows(batch_id=batch.id, worker="a", limit=5)) == 5
    assert proc.claim_rows(batch_id=batch.id, worker="b", limit=5) == []  # a holds the only slot
    assert len(proc.claim_rows(batch_id=batch.id, worker="a", limit=5)) == 5  # a may take more


def test_a_lost_lease_goes_back_to_pending_and_its_result_is_written_once(org, manager):
    batch = make_batch(org, manager, 3)
    start = utcnow()
    ids = proc.claim_rows(batch_id=batch.id, worker="slow", limit=1, now=start)
    assert proc.row_start(row_id=ids[0], worker="slow", now=start) is not None
    later = start + timedelta(seconds=proc.lease_seconds() + 1)
    assert proc.reap_stale(now=later) == 1
    assert db.session.scalar(select(BatchWorker.status).where(BatchWorker.instance == "slow")) == "stale"
    assert proc.claim_rows(batch_id=batch.id, worker="fast", limit=1, now=later) == ids
    assert proc.row_start(row_id=ids[0], worker="fast") is not None
    assert proc.row_complete(row_id=ids[0], batch_id=batch.id, worker="fast", results={"by": "fast"}, started=0.0)
    # The slow worker wakes up: neither its completion nor its failure is written.
    assert not proc.row_complete(row_id=ids[0], batch_id=batch.id, worker="slow", results={"by": "slow"}, started=0.0)
    assert proc.row_fail(row_id=ids[0], batch_id=batch.id, worker="slow", message="late") is None
    db.session.expire_all()
    row = db.session.get(BatchRow, ids[0])
    assert row.results == {"by": "fast"} and row.status == "completed"
    assert db.session.get(Batch, batch.id).processed_rows == 1
    log = db.session.scalars(select(BatchLog.message).where(BatchLog.operation == "reap")).all()
    assert log and "went back to pending" in log[0]


def test_heartbeat_extends_the_lease(org, manager):
    batch = make_batch(org, manager, 2)
    ids = proc.claim_rows(batch_id=batch.id, worker="w", limit=2)
    first = db.session.scalar(select(BatchRow.lease_expires_at).where(BatchRow.id == ids[0]))
    proc.heartbeat(worker="w", batch_id=batch.id, jobs=1, processed=1)
    db.session.expire_all()
    assert db.session.scalar(select(BatchRow.lease_expires_at).where(BatchRow.id == ids[0])) >= first
    assert db.session.scalar(select(BatchWorker.processed_count).where(BatchWorker.instance == "w")) == 1


def test_retries_back_off_then_fail_after_three(app, org, manager):
    app.config["BATCH_RETRY_BASE_SECONDS"] = 10
    batch = make_batch(org, manager, 1)
    now = utcnow()
    delays = []
    for attempt in range(4):
        ids = proc.claim_rows(batch_id=batch.id, worker="w", limit=1, now=now)
        assert len(ids) == 1, attempt
        proc.row_start(row_id=ids[0], worker="w", now=now)
        status = proc.row_fail(row_id=ids[0], batch_id=batch.id, worker="w", message="model timeout", now=now)
        row = db.session.get(BatchRow, ids[0])
        db.session.refresh(row)
        if attempt < 3:
            assert status == "pending" and row.retry_count == attempt + 1
            delays.append((row.next_attempt_at - now).total_seconds())
            assert proc.claim_rows(batch_id=batch.id, worker="w", limit=1, now=now) == []  # not yet due
            now = row.next_attempt_at
        else:
            assert status == "failed"
    assert delays == [10, 20, 40]
    db.session.expire_all()
    batch = db.session.get(Batch, batch.id)
    assert (batch.processed_rows, batch.failed_rows) == (1, 1)
    assert proc.batch_finish_if_done(batch_id=batch.id)
    db.session.refresh(batch)
    assert batch.status == BatchStatus.COMPLETED_WITH_ERRORS


def test_failing_rows_are_retried_by_the_jobs_and_can_be_retried_again(app, manager_client, run_jobs, monkeypatch):
    app.config["BATCH_RETRY_BASE_SECONDS"] = 0
    import app.batches.tasks as tasks

    real = tasks.process_row

    def flaky(data, mapping, templates):
        if data["Product Name"] == "Chain 2":
            raise RuntimeError("image service unavailable")
        return real(data, mapping, templates)

    monkeypatch.setattr(tasks, "process_row", flaky)
    batch = upload_and_start(manager_client, products_csv(4))
    run_jobs()
    db.session.expire_all()
    batch = db.session.get(Batch, batch.id)
    assert batch.status == BatchStatus.COMPLETED_WITH_ERRORS
    assert (batch.successful_rows, batch.failed_rows) == (3, 1)
    failed = db.session.scalar(select(BatchRow).where(BatchRow.status == "failed"))
    assert failed.retry_count == 3 and "image service unavailable" in failed.error
    assert db.session.scalar(select(func.count()).select_from(BatchLog).where(BatchLog.operation == "retry")) == 3
    monkeypatch.setattr(tasks, "process_row", real)
    assert manager_client.post(f"/batches/{batch.id}/retry").status_code == 302
    run_jobs()
    db.session.expire_all()
    batch = db.session.get(Batch, batch.id)
    assert batch.status == BatchStatus.COMPLETED
    assert (batch.processed_rows, batch.successful_rows, batch.failed_rows) == (4, 4, 0)


def test_cancel_stops_claiming_and_resume_finishes(manager_client, run_jobs, app):
    app.config["BATCH_CHUNK_SIZE"] = 5
    app.config["BATCH_JOB_SECONDS"] = 0  # one chunk per job, so that the cancel lands between two
    batch = upload_and_start(manager_client, products_csv(30), jobs=1)
    run_jobs(max_jobs=1)
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).processed_rows == 5
    assert manager_client.post(f"/batches/{batch.id}/cancel").status_code == 302
    run_jobs()
    db.session.expire_all()
    batch = db.session.get(Batch, batch.id)
    assert batch.status == BatchStatus.CANCELLED and batch.processed_rows == 5
    assert _statuses(batch.id) == {"completed": 5, "pending": 25}
    assert manager_client.post(f"/batches/{batch.id}/resume").status_code == 302
    run_jobs()
    db.session.expire_all()
    batch = db.session.get(Batch, batch.id)
    assert batch.status == BatchStatus.COMPLETED and batch.successful_rows == 30


def test_per_user_limit_queues_further_batches(app, manager_client, run_jobs):
    app.config["BATCH_USER_CONCURRENT"] = 1
    first = upload_and_start(manager_client, products_csv(3))
    second = upload_and_start(manager_client, products_csv(4))
    assert first.status == BatchStatus.PROCESSING
    assert second.status == BatchStatus.QUEUED
    assert "Waiting for a free slot" in manager_client.get(f"/batches/{second.id}").get_data(as_text=True)
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Batch, first.id).status == BatchStatus.COMPLETED
    assert db.session.get(Batch, second.id).status == BatchStatus.COMPLETED


def test_sweep_restarts_a_batch_whose_jobs_were_lost(app, org, manager, run_jobs):
    batch = make_batch(org, manager, 5)  # processing, but no job was ever queued
    assert proc.sweep_all()["restarted"] == 1
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status == BatchStatus.COMPLETED


def test_reap_stale_command(app, org, manager):
    batch = make_batch(org, manager, 2)
    ids = proc.claim_rows(batch_id=batch.id, worker="gone", limit=2, now=utcnow() - timedelta(hours=1))
    assert len(ids) == 2
    result = app.test_cli_runner().invoke(args=["batches", "reap-stale"])
    assert result.exit_code == 0, result.output
    assert "rows back to pending: 2" in result.output


@pytest.mark.parametrize("path", ["/batches/", "/batches/prompts"])
def test_staff_cannot_see_batch_pages(staff_client, path):
    assert staff_client.get(path).status_code == 403


def test_dashboard_card_and_list_show_running_batches(manager_client, org, manager):
    make_batch(org, manager, 5)
    page = manager_client.get("/").get_data(as_text=True)
    assert "CSV batches" in page and 'data-testid="batches-running">1<' in page
    assert "direct.csv" in manager_client.get("/batches/").get_data(as_text=True)


def test_log_is_filterable(manager_client, run_jobs):
    batch = upload_and_start(manager_client, products_csv(2))
    run_jobs()
    page = manager_client.get(f"/batches/{batch.id}/log?operation=store").get_data(as_text=True)
    assert "Stored 2 row(s)" in page and "Uploaded" not in page
    page = manager_client.htmx("GET", f"/batches/{batch.id}/log?level=error").get_data(as_text=True)
    assert "No log entries match" in page


def test_progress_events_are_throttled_per_batch(app, org, manager):
    first = make_batch(org, manager, 2)
    second = make_batch(org, manager, 2)
    sent = [proc.progress_tick(batch_id=first.id) for _ in range(20)]
    assert sent.count(True) == 1  # one event per interval however many rows finish
    assert proc.progress_tick(batch_id=second.id)  # each batch has its own interval
    assert proc.progress_tick(batch_id=first.id, force=True)  # status changes always go out


def test_saved_mapping_can_be_deleted(manager_client):
    from app.batches.models import SavedMapping
    from tests.batches.helpers import batch_id_from, upload

    batch_id = batch_id_from(upload(manager_client, b"Name\nA\n"))
    manager_client.post(f"/batches/{batch_id}/mapping", data={"field_title": "Name", "save_as": "Simple"})
    mapping = db.session.scalar(select(SavedMapping))
    assert "Simple" in manager_client.get(f"/batches/{batch_id}/mapping").get_data(as_text=True)
    assert manager_client.post(f"/batches/mappings/{mapping.id}/delete").status_code == 302
    assert db.session.scalar(select(SavedMapping)) is None


def test_health_check_warns_about_rows_held_past_their_lease(admin_client, org, manager):
    batch = make_batch(org, manager, 2)
    proc.claim_rows(batch_id=batch.id, worker="gone", limit=1, now=utcnow() - timedelta(hours=1))
    status, detail = proc.health()
    assert status == "warning" and "reap-stale" in detail
    assert "held past their lease" in admin_client.get("/admin/health").get_data(as_text=True)
