"""Commands for operators: backups, checks, restores, drills and storage sweeps.

    flask backup [--json]                  database and stored files into BACKUP_DIR, verified
    flask backup list | prune [--dry-run] | drill [BACKUP]
    flask verify-backup BACKUP [--live]    every checksum, the database read back, every named file
    flask restore BACKUP [--force]         all or nothing, into an empty instance
    flask storage sweep [--dry-run] [--grace-days N] | usage
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import inspect

from app.backups.layout import BackupError, list_backups
from app.backups.statuses import RunKind, RunStatus
from app.core.errors import DomainError
from app.extensions import db

log = logging.getLogger(__name__)


def operator_errors(command):
    """Say what went wrong in one line (no stack trace for operators); exit 1."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (BackupError, DomainError) as exc:
            db.session.rollback()
            raise click.ClickException(getattr(exc, "message", None) or str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except Exception as exc:
            db.session.rollback()
            log.exception("command failed")
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
    return wrapper


def _run(kind: RunKind, **options):
    from app.backups import services

    if not inspect(db.engine).has_table("backup_runs"):  # a database not yet migrated: run unrecorded
        summary, report = services.execute(kind, **options)
        return summary, report
    run = services.run_now(kind=kind, by="command line", **options)
    if run.status != RunStatus.SUCCEEDED:
        raise BackupError(run.error or f"the {kind.value} was {run.status.value}")
    return run.summary, run.report


@click.group("backup", invoke_without_command=True)
@click.option("--json", "force_json", is_flag=True, help="portable JSON dump (moves data between SQLite and PostgreSQL)")
@click.pass_context
@operator_errors
def backup_group(ctx: click.Context, force_json: bool) -> None:
    """Back up the database and every stored file into BACKUP_DIR (verified before it is kept)."""
    if ctx.invoked_subcommand is not None:
        return
    summary, report = _run(RunKind.BACKUP, force_json=force_json)
    click.echo(report["path"])
    click.echo(f"method: {report['method']} ({report['note']})")
    click.echo(summary)
    for note in report.get("notes") or []:
        click.echo(f"note: {note}")


@backup_group.command("list")
@operator_errors
def backup_list() -> None:
    """Complete backups, newest first."""
    for backup in list_backups():
        manifest = backup.manifest()
        files = manifest["files"]
        click.echo(f"{backup.name}  {manifest['method']:8} {manifest['database']['size']:>12} B  "
                   f"{files['count']:>7} files  {files['copied']:>6} new")


@backup_group.command("prune")
@click.option("--dry-run", is_flag=True, help="only say which backups would be deleted")
@operator_errors
def backup_prune(dry_run: bool) -> None:
    """Apply retention (BACKUP_KEEP_DAILY/WEEKLY/MONTHLY) now."""
    from app.backups.retention import prune

    pruned = prune(dry_run=dry_run)
    click.echo(f"keep {len(pruned.kept)}: " + ", ".join(pruned.kept))
    click.echo(("would delete" if dry_run else "deleted") + f" {len(pruned.removed)}: " + ", ".join(pruned.removed))


@backup_group.command("drill")
@click.argument("backup", required=False, type=click.Path())
@operator_errors
def backup_drill_command(backup: str | None) -> None:
    """Restore a backup (the newest by default) into a scratch instance and check it there."""
    from app.backups.drill import backup_drill

    drill = backup_drill(backup)
    click.echo(f"drill of {drill.backup}: {'PASSED' if drill.ok else 'FAILED'} in {drill.seconds} s")
    for name, value in drill.checks.items():
        click.echo(f"  {name}: {value}")
    for note in drill.notes:
        click.echo(f"  note: {note}")
    for problem in drill.problems:
        click.echo(f"  PROBLEM: {problem}")
    if not drill.ok:
        raise SystemExit(1)


@click.command("verify-backup")
@click.argument("backup", type=click.Path())
@click.option("--live", is_flag=True, help="also compare every table with the live database")
@click.option("--no-live", is_flag=True, hidden=True, help="accepted for older scripts (the default now)")
@operator_errors
def verify_command(backup: str, live: bool, no_live: bool) -> None:
    """Check a backup: every checksum, the database read back whole, every file its rows name."""
    from app.backups.verify import compare_live, verify_backup

    report = verify_backup(backup)
    checked = ", ".join(k.replace("_", " ") if v is True else f"{k} {v}" for k, v in report.checked.items())
    click.echo(f"{report.path.name}: {report.method}; checked {checked}")
    for note in report.notes:
        click.echo(f"note: {note}")
    for problem in report.problems:
        click.echo(f"FAILED {problem}")
    if live and not no_live:
        rows = compare_live(report)
        bad = [r for r in rows if not r["equal"]]
        for r in bad:
            click.echo(f"DIFFERENT from the live database: {r['table']} (backup {r['backup_rows']}, live {r['live_rows']})")
        click.echo(f"{len(rows) - len(bad)} of {len(rows)} tables equal to the live database")
        if bad:
            raise SystemExit(1)
    if not report.ok:
        raise click.ClickException(f"the backup is NOT good: {len(report.problems)} problem(s)")
    click.echo("the backup is good: every checksum matches")


@click.command("restore")
@click.argument("backup", type=click.Path())
@click.option("--force", is_flag=True, help="replace the database of an instance that has data")
@operator_errors
def restore_command(backup: str, force: bool) -> None:
    """Restore a backup's database and files into this (empty) instance, all or nothing."""
    from app.backups.restore import backup_restore

    restored = backup_restore(Path(backup), force=force)
    tables = restored.report.manifest.get("tables") or {}
    click.echo(f"restored {restored.report.path.name}: {restored.how}; {len(tables)} tables equal to the backup, "
               f"{restored.files} files in place")
    for note in restored.report.notes + restored.notes:
        click.echo(f"note: {note}")


storage_cli = AppGroup("storage", help="Stored files: usage and sweeping files no row names.")


@storage_cli.command("sweep")
@click.option("--dry-run", is_flag=True, help="list what would be removed and the space it frees")
@click.option("--grace-days", type=click.FloatRange(min=0), default=None, help="override STORAGE_GRACE_DAYS")
@operator_errors
def storage_sweep_command(dry_run: bool, grace_days: float | None) -> None:
    """Remove stored files that no row names and that are older than the grace period."""
    from app.backups.services import mb
    from app.backups.sweep import storage_sweep

    swept = storage_sweep(dry_run=dry_run, grace_days=grace_days)
    for item in swept.reclaimable:
        click.echo(f"{'would remove' if dry_run else 'removed'} {item['path']}  {item['bytes']} B  "
                   f"{item['age_days']} days old")
    if swept.reclaimable_count > len(swept.reclaimable):
        click.echo(f"… and {swept.reclaimable_count - len(swept.reclaimable)} more")
    if dry_run:
        click.echo(f"would free {mb(swept.reclaimable_bytes)} in {swept.reclaimable_count} file(s)")
    else:
        click.echo(f"freed {mb(swept.removed_bytes)} in {swept.removed} file(s)" + (f" ({swept.note})" if swept.note else ""))


@storage_cli.command("usage")
@operator_errors
def storage_usage_command() -> None:
    """Bytes stored per capability, and what a sweep would free."""
    from app.backups.services import mb
    from app.backups.sweep import storage_sweep

    swept = storage_sweep(dry_run=True)
    for capability, entry in sorted(swept.usage.items()):
        click.echo(f"{capability:20} {entry['files']:>8} files  {mb(entry['bytes']):>10}")
    click.echo(f"{'named by no row':20} {swept.unreferenced:>8} files  {mb(swept.unreferenced_bytes):>10}"
               f"  ({mb(swept.reclaimable_bytes)} older than {swept.grace_days:g} days: reclaimable)")
    click.echo(f"{'total':20} {swept.files:>8} files  {mb(swept.bytes):>10}")


def init_app(app) -> None:
    """Commands, the health page's backup and storage panels, the schedule and the health checks."""
    from app.backups import health, schedule, views  # noqa: F401 - registering checks and the sweeper

    for command in (backup_group, verify_command, restore_command, storage_cli):
        app.cli.add_command(command)
    app.register_blueprint(views.bp)
