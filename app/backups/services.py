"""Runs of backups, drills and storage sweeps: asked for by a person, by a command, or by the schedule.

Every run is a `backup_runs` row. A worker claims a queued run with the lease engine
(app.core.leases) and renews the lease while it works; a run whose worker died goes back to the
queue (app.backups.schedule.recover). Only one run of a kind holds a live lease at a time: a run
that finds another of its kind running is marked skipped.
"""
from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.backups.archive import backup_create
from app.backups.drill import backup_drill
from app.backups.layout import BackupError
from app.backups.models import BackupRun
from app.backups.remote import copy_to_bucket, prune_bucket
from app.backups.retention import prune
from app.backups.statuses import RunKind, RunStatus
from app.backups.sweep import storage_sweep
from app.core import leases
from app.core.errors import Conflict
from app.core.models import utcnow
from app.core.queue import enqueue_after_commit
from app.extensions import db

log = logging.getLogger(__name__)
SPEC = leases.Leased(BackupRun, lease_seconds=lambda: float(current_app.config["BACKUP_LEASE_SECONDS"]))
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


def job_id(run_id: int) -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}-backup-run-{run_id}"


def enqueue_run(run: BackupRun) -> None:
    """Send the run to a worker once the transaction that made it commits."""
    from app.backups.tasks import run_backup_job

    enqueue_after_commit(run_backup_job, run.id, queue="low", job_id=job_id(run.id),
                         timeout=int(current_app.config["BACKUP_JOB_TIMEOUT"]))


def run_request(*, kind: RunKind, by: str, dry_run: bool = False) -> BackupRun:
    """Queue a backup, drill or storage sweep (refused while one of its kind is queued or running)."""
    kind = RunKind(kind)
    active = db.session.scalar(select(BackupRun).where(BackupRun.kind == kind, BackupRun.status.in_(ACTIVE)))
    if active is not None:
        raise Conflict(f"A {kind.label.lower()} is already {active.status.label.lower()}.")
    run = BackupRun(kind=kind, dry_run=dry_run, requested_by=by[:120], status=RunStatus.QUEUED)
    db.session.add(run)
    db.session.flush()
    enqueue_run(run)
    db.session.commit()
    return run


def run_claim(*, run_id: int, holder: str) -> bool:
    """Take a queued run for `holder` (one statement: two workers never both get it)."""
    claimed = leases.claim(SPEC, holder=holder, ready=RunStatus.QUEUED, claimed=RunStatus.RUNNING,
                           where=[BackupRun.id == run_id],
                           values={"started_at": utcnow(), "attempts": BackupRun.attempts + 1})
    db.session.commit()
    return bool(claimed)


def run_execute(*, run_id: int, holder: str, force_json: bool = False) -> BackupRun:
    """Do a claimed run under a renewed lease and record how it ended."""
    run = db.session.get(BackupRun, run_id)
    if _another_running(run):
        return _finish(run_id, RunStatus.SKIPPED, "another run of this kind was going", None, None)
    kind, dry_run = run.kind, run.dry_run
    db.session.commit()
    period = SPEC.lease_seconds() / 3
    with leases.Heartbeat(lambda: _renew(holder, run_id), period, name="backup-lease"):
        try:
            summary, report = execute(kind, dry_run=dry_run, force_json=force_json)
        except BackupError as exc:
            db.session.rollback()
            return _finish(run_id, RunStatus.FAILED, "", None, str(exc))
        except Exception as exc:
            db.session.rollback()
            log.exception("backup run %s failed", run_id)
            return _finish(run_id, RunStatus.FAILED, "", None, f"{type(exc).__name__}: {exc}")
    return _finish(run_id, RunStatus.SUCCEEDED, summary, report, None)


def run_now(*, kind: RunKind, by: str, dry_run: bool = False, force_json: bool = False) -> BackupRun:
    """Run a backup, drill or sweep in this process (the commands), recorded like any other run."""
    kind = RunKind(kind)
    holder = f"{socket.gethostname()}:{os.getpid()}"
    run = BackupRun(kind=kind, dry_run=dry_run, requested_by=by[:120], status=RunStatus.QUEUED)
    db.session.add(run)
    db.session.commit()
    run_claim(run_id=run.id, holder=holder)
    return run_execute(run_id=run.id, holder=holder, force_json=force_json)


def _renew(holder: str, run_id: int) -> None:
    leases.renew(SPEC, holder=holder, held=[RunStatus.RUNNING], ids=[run_id])
    db.session.commit()


def _another_running(run: BackupRun) -> bool:
    return db.session.scalar(select(BackupRun.id).where(
        BackupRun.kind == run.kind, BackupRun.status == RunStatus.RUNNING, BackupRun.id != run.id,
        BackupRun.lease_until > utcnow()).limit(1)) is not None


def _finish(run_id: int, status: RunStatus, summary: str, report: dict | None, error: str | None) -> BackupRun:
    db.session.execute(update(BackupRun).where(BackupRun.id == run_id, BackupRun.status.in_(ACTIVE)).values(
        status=status, summary=summary[:2000], report=report, error=error, finished_at=utcnow(),
        holder=None, lease_until=None), execution_options={"synchronize_session": False})
    db.session.commit()
    run = db.session.get(BackupRun, run_id)
    db.session.refresh(run)
    return run


def execute(kind: RunKind, *, dry_run: bool = False, force_json: bool = False) -> tuple[str, dict]:
    """The work of one run: (summary line, report)."""
    if kind == RunKind.BACKUP:
        return _backup(force_json)
    if kind == RunKind.DRILL:
        drill = backup_drill()
        if not drill.ok:
            raise BackupError(f"Drill of {drill.backup} failed: " + "; ".join(drill.problems))
        checks = drill.checks
        return (f"{drill.backup} restored into a scratch instance in {drill.seconds} s: {checks.get('tables')} tables, "
                f"{checks.get('rows')} rows, ledger of {checks.get('ledger_items', 0)} items adds up, "
                f"{checks.get('files')} files, all {checks.get('references')} named files present"), drill.as_dict()
    swept = storage_sweep(dry_run=dry_run)
    verb = "would free" if dry_run else "freed"
    freed = swept.reclaimable_bytes if dry_run else swept.removed_bytes
    count = swept.reclaimable_count if dry_run else swept.removed
    return (f"{swept.files} files, {mb(swept.bytes)} stored; {verb} {mb(freed)} in {count} unnamed file(s) "
            f"older than {swept.grace_days:g} days" + (f"; {swept.note}" if swept.note else "")), swept.as_dict()


def _backup(force_json: bool) -> tuple[str, dict]:
    made = backup_create(force_json=force_json)
    manifest, files = made.manifest, made.manifest["files"]
    pruned = prune()
    report = {"name": made.backup.name, "path": str(made.backup.path), "method": manifest["method"], "note": manifest["note"],
              "seconds": round(made.seconds, 2), "database_bytes": manifest["database"]["size"],
              "tables": len(manifest["tables"]), "rows": sum(t["rows"] for t in manifest["tables"].values()),
              "files": files["count"], "files_bytes": files["bytes"], "copied": files["copied"],
              "copied_bytes": files["copied_bytes"], "linked": files["linked"],
              "damaged_in_store": files["damaged_in_store"], "missing_files": manifest["references"]["missing_count"],
              "kept": pruned.kept, "removed": pruned.removed, "notes": made.report.notes}
    try:
        report["remote"] = copy_to_bucket(made.backup)
        if report["remote"]:
            report["remote"].update(prune_bucket(pruned.kept))
    except BackupError as exc:
        report["remote_error"] = str(exc)
    summary = (f"{made.backup.name}: {manifest['method']}, {report['tables']} tables, {report['rows']} rows, "
               f"{files['count']} files ({files['copied']} new, {mb(files['copied_bytes'])}), verified in "
               f"{made.seconds:.1f} s; kept {len(pruned.kept)}, removed {len(pruned.removed)}")
    if report.get("remote_error"):
        summary += "; COPY TO THE BUCKET FAILED: " + report["remote_error"]
    return summary, report


def mb(n: int | float) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def latest_runs(limit: int = 8) -> list[BackupRun]:
    return list(db.session.scalars(select(BackupRun).order_by(BackupRun.id.desc()).limit(limit)))


def active_runs() -> list[BackupRun]:
    return list(db.session.scalars(select(BackupRun).where(BackupRun.status.in_(ACTIVE)).order_by(BackupRun.id)))


def latest_finished(kind: RunKind, **where) -> BackupRun | None:
    query = select(BackupRun).where(BackupRun.kind == kind, BackupRun.status == RunStatus.SUCCEEDED)
    for name, value in where.items():
        query = query.where(getattr(BackupRun, name) == value)
    return db.session.scalar(query.order_by(BackupRun.finished_at.desc()).limit(1))


def stale_after() -> timedelta:
    return timedelta(hours=float(current_app.config["BACKUP_STALE_HOURS"]))
