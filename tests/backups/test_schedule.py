"""The schedule (once per slot however many workers look), retention, runs that lose their worker."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.backups import retention, schedule, services
from app.backups.layout import PREFIX, STAMP, private_dir, write_json
from app.backups.models import BackupRun
from app.backups.statuses import RunKind, RunStatus
from app.core.queue import get_redis, key
from app.extensions import db


def _runs():
    return db.session.scalars(select(BackupRun).order_by(BackupRun.id)).all()


def test_a_fresh_installation_waits_for_its_first_slot_then_each_slot_runs_once(app, org, run_jobs):
    app.config["BACKUP_SCHEDULE"] = True
    now = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    get_redis().set(key("backups", "schedule-since"), now.isoformat())  # as if the first worker started now
    schedule.tick(now=now, force=True)
    assert _runs() == []  # first seen today at 10:00: today's 02:00 slot was before that
    get_redis().set(key("backups", "schedule-since"), (now - timedelta(days=40)).isoformat())
    for _ in range(3):  # three workers noticing the same slots
        schedule.tick(now=now, force=True)
    runs = _runs()
    assert sorted((r.kind.value, r.slot) for r in runs) == [("backup", "2026-12-05"), ("drill", "2026-12"),
                                                           ("sweep", "2026-12-05")]
    run_jobs()
    db.session.expire_all()
    assert {r.kind.value: r.status for r in _runs()} == {"backup": RunStatus.SUCCEEDED, "drill": RunStatus.SUCCEEDED,
                                                        "sweep": RunStatus.SUCCEEDED}
    backup = next(r for r in _runs() if r.kind == RunKind.BACKUP)
    assert backup.report["name"].startswith(PREFIX) and "verified" in backup.summary
    drill = next(r for r in _runs() if r.kind == RunKind.DRILL)
    assert "restored into a scratch instance" in drill.summary and drill.report["ok"] is True
    schedule.tick(now=now + timedelta(hours=5), force=True)
    assert len(_runs()) == 3
    schedule.tick(now=now + timedelta(days=1), force=True)
    assert len(_runs()) == 5  # the next day's backup and sweep; the drill is monthly


def test_the_slot_row_is_unique_so_only_one_insert_wins(app, org):
    schedule._queue_slot(RunKind.BACKUP, "2026-12-05")
    schedule._queue_slot(RunKind.BACKUP, "2026-12-05")
    assert len(_runs()) == 1


def test_a_run_whose_worker_died_goes_back_to_the_queue(app, org):
    run = BackupRun(kind=RunKind.BACKUP, slot="2026-12-05", status=RunStatus.RUNNING, holder="dead", attempts=1,
                    lease_until=datetime.now(UTC) - timedelta(minutes=1),
                    created_at=datetime.now(UTC) - timedelta(hours=1))
    db.session.add(run)
    db.session.commit()
    schedule.recover(datetime.now(UTC))
    db.session.refresh(run)
    assert run.status == RunStatus.QUEUED and run.holder is None
    from rq.job import Job

    assert Job.exists(services.job_id(run.id), connection=get_redis())


def test_a_second_request_while_one_is_queued_is_refused(app, admin_client):
    first = admin_client.htmx("post", "/admin/health/backups/backup")
    assert first.status_code == 200
    second = admin_client.htmx("post", "/admin/health/backups/backup")
    assert second.status_code == 409 and "already queued" in second.get_data(as_text=True)


def _daily(first: date, last: date) -> list[datetime]:
    days = (last - first).days + 1
    return [datetime(first.year, first.month, first.day, 2, tzinfo=UTC) + timedelta(days=i) for i in range(days)]


def test_retention_keeps_exactly_the_configured_set():
    stamps = _daily(date(2026, 1, 1), date(2026, 12, 31))
    kept = retention.keep_set(stamps, daily=7, weekly=4, monthly=12)
    expected = {date(2026, 12, d) for d in range(25, 32)}  # 7 daily
    expected |= {date(2026, 12, 20), date(2026, 12, 13)}  # ISO weeks 51 and 50 (53 and 52 are kept already)
    expected |= {date(2026, m, 1) - timedelta(days=1) for m in range(2, 13)}  # last day of Jan..Nov
    assert {s.date() for s in kept} == expected and len(kept) == 20


def test_retention_counts_only_periods_that_have_a_backup_and_keeps_the_newest():
    stamps = [datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 1, 5, tzinfo=UTC)]
    assert retention.keep_set(stamps, daily=0, weekly=0, monthly=0) == {stamps[2]}
    assert retention.keep_set(stamps, daily=2, weekly=0, monthly=0) == {stamps[0], stamps[2]}


def test_prune_deletes_the_backups_retention_does_not_keep(app, tmp_path):
    folder = tmp_path / "backups"
    stamps = _daily(date(2026, 1, 1), date(2026, 3, 31))
    for stamp in stamps:
        path = private_dir(folder / (PREFIX + stamp.strftime(STAMP)))
        write_json(path / "verified.json", {"verified_at": stamp.isoformat()})
    (folder / ".partial-stockroom-20260401T000000000000Z").mkdir()
    app.config.update(BACKUP_KEEP_DAILY=3, BACKUP_KEEP_WEEKLY=2, BACKUP_KEEP_MONTHLY=2)
    pruned = retention.prune(folder)
    left = sorted(p.name for p in folder.iterdir())
    assert left[0].startswith(".partial-") and len(left) == 1 + len(pruned.kept)
    # Daily: 31, 30, 29 March; weekly: ISO weeks 14 and 13 end on 31 and 29 March (kept already);
    # monthly: March (31st) and February (28th).
    assert [n[len(PREFIX):len(PREFIX) + 8] for n in pruned.kept] == ["20260331", "20260330", "20260329", "20260228"]
