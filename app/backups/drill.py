"""Restore drills: the newest backup restored into a scratch instance and checked there.

The scratch instance is a second app with its own database (a SQLite file, or a new database
on the PostgreSQL server) and its own UPLOAD_DIR, under BACKUP_DIR/.drill-…; it is removed at
the end whatever happened. The restore itself is the one `flask restore` runs (so a drill also
proves the restore path), followed by:
  * row counts per table equal the manifest's (and the checksums, which the restore compares);
  * the stock ledger adds up: for every item, on_hand and reserved equal the sums of its movements;
  * every file a row names is in the scratch store and hashes to its name.
"""
from __future__ import annotations

import shutil
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text

from app.backups.archive import file_sha256
from app.backups.canonical import reflect, table_sums
from app.backups.database import scratch_database
from app.backups.layout import Backup, BackupError, backup_dir, newest, private_dir, resolve
from app.backups.references import scan
from app.core import storage
from app.extensions import db

LEDGER = ("SELECT count(*) FROM inventory_items i LEFT JOIN (SELECT item_id, SUM(on_hand_delta) AS oh, "
          "SUM(reserved_delta) AS rs FROM stock_movements GROUP BY item_id) m ON m.item_id = i.id "
          "WHERE i.on_hand <> COALESCE(m.oh, 0) OR i.reserved <> COALESCE(m.rs, 0)")


@dataclass
class Drill:
    backup: str
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def backup_drill(path: str | Path | None = None) -> Drill:
    """Restore a backup (the newest by default) into a scratch instance, check it, report."""
    started = time.perf_counter()
    backup = resolve(path) if path else newest()
    if backup is None:
        raise BackupError("There is no complete backup to drill yet: run `flask backup` first.")
    if not isinstance(backup, Backup):
        raise BackupError("Drills restore backup folders (database and files); this is an older single-file backup.")
    drill = Drill(backup.name)
    scratch = private_dir(backup_dir() / f".drill-{uuid.uuid4().hex[:12]}")
    try:
        with ExitStack() as stack:
            url = _scratch_url(stack, backup, scratch)
            app = _scratch_app(url, scratch)
            with app.app_context():
                try:
                    _restore_and_check(drill, backup)
                finally:
                    db.session.remove()
                    db.engine.dispose()
    except BackupError as exc:
        drill.problems.append(str(exc))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    drill.ok = not drill.problems
    drill.seconds = round(time.perf_counter() - started, 2)
    return drill


def _scratch_url(stack: ExitStack, backup: Backup, scratch: Path) -> str:
    if backup.manifest().get("dialect") == "postgresql":
        from app.backups.verify import scratch_server

        server = scratch_server()
        if server is None:
            raise BackupError("This backup is of a PostgreSQL database: a drill needs a PostgreSQL server "
                              "(set BACKUP_SCRATCH_URL).")
        return stack.enter_context(scratch_database(server)).render_as_string(hide_password=False)
    return f"sqlite:///{scratch / 'drill.sqlite3'}"


def _scratch_app(url: str, scratch: Path):
    from app import create_app

    config = current_app.config
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(scratch / "uploads"),
                       "BACKUP_DIR": str(scratch / "backups"), "REDIS_URL": config["REDIS_URL"],
                       "REDIS_NAMESPACE": f"{config['REDIS_NAMESPACE']}-drill-{scratch.name[7:]}",
                       "BACKUP_SCRATCH_URL": config.get("BACKUP_SCRATCH_URL") or _server_of(config),
                       "BACKUP_SCHEDULE": False, "SECRET_KEY": config["SECRET_KEY"]})


def _server_of(config) -> str:
    url = config["SQLALCHEMY_DATABASE_URI"]
    return url if url.startswith("postgresql") else ""


def _restore_and_check(drill: Drill, backup: Backup) -> None:
    from app.backups.restore import backup_restore

    restored = backup_restore(backup.path)
    drill.notes += restored.report.notes
    manifest = restored.report.manifest
    with db.engine.connect() as conn:
        meta = reflect(conn)
        sums = table_sums(conn, meta)
        expected = manifest.get("tables") or {}
        wrong = [n for n in expected if sums.get(n) is None or sums[n].rows != expected[n]["rows"]]
        drill.checks["tables"] = len(sums)
        drill.checks["rows"] = sum(s.rows for s in sums.values())
        if wrong:
            drill.problems.append(f"row counts differ from the manifest in {', '.join(wrong[:5])}")
        _ledger(drill, conn)
        refs = scan(conn, meta)
    _files(drill, refs, manifest)


def _ledger(drill: Drill, conn) -> None:
    tables = set(inspect(conn).get_table_names())
    if not {"inventory_items", "stock_movements"} <= tables:
        drill.notes.append("no stock ledger in this schema")
        return
    off = conn.execute(text(LEDGER)).scalar()
    drill.checks["ledger_items"] = conn.execute(text("SELECT count(*) FROM inventory_items")).scalar()
    if off:
        drill.problems.append(f"{off} item(s) whose on-hand or reserved stock is not the sum of their ledger movements")


def _files(drill: Drill, refs, manifest: dict) -> None:
    present: dict[str, storage.Listed] = {f.sha256: f for f in storage.iter_files()}
    known_missing = {m.get("sha256") for m in (manifest.get("references") or {}).get("missing") or []}
    bad = 0
    for item in present.values():
        bad += file_sha256(item.path) != item.sha256
    absent = refs.hashes - set(present)
    drill.checks.update(files=len(present), references=len(refs))
    if bad:
        drill.problems.append(f"{bad} restored file(s) do not hash to their names")
    if absent - known_missing:
        drill.problems.append(f"{len(absent - known_missing)} file(s) named by rows are missing after the restore")
    if absent & known_missing:
        drill.notes.append(f"{len(absent & known_missing)} file(s) named by rows were already missing from the "
                           "store when the backup was taken")
