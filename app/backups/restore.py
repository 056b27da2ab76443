"""Restoring a backup, all or nothing: database and stored files into an empty instance.

The backup is first checked completely (app.backups.verify; for a pg_dump that includes a full
restore into a scratch database). Then:
  * the stored files are copied into a staging folder inside UPLOAD_DIR (a dot-name, invisible to
    the store), not yet into place;
  * the database is switched in one step that either happens whole or not at all, and only after
    the checks on what will become the database passed:
      - SQLite: the backup is copied into a scratch file next to the database, checked there
        (integrity, per-table counts and checksums), then copied over in a single step of
        SQLite's backup API (one write transaction);
      - PostgreSQL: the archive is turned into SQL by pg_restore and run by psql in a single
        transaction that first drops the old tables and ends by checking every table's row count;
        any error rolls the whole transaction back;
      - JSON: rows are inserted in one transaction and the per-table checksums are compared
        before it commits;
  * only then are the staged files moved into place (renames in one file system).
A failed restore leaves the database as it was and removes the staging folder, so it can be
retried. Restoring into an instance that has data (rows, or stored files) needs --force.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, LargeBinary, Numeric, inspect, text
from sqlalchemy.engine import Connection, Engine

from app.backups.canonical import TableSum, data_tables, reflect, revision, table_sums
from app.backups.database import load_json_dump, pg_args, run_tool, sqlite_file
from app.backups.layout import BackupError, private_dir
from app.backups.verify import Report, verify_backup
from app.core import storage
from app.extensions import db

INTERRUPTED = "interrupted: the database was restored from a backup taken while this run was going"


@dataclass
class Restored:
    how: str
    files: int
    report: Report
    notes: list[str] = field(default_factory=list)


def backup_restore(target: str | Path, *, force: bool = False) -> Restored:
    """Restore database and files of a backup into this instance (empty unless `force`)."""
    report = verify_backup(target)
    if not report.ok:
        raise BackupError("Not restored: the backup failed its check: " + report.first_problems())
    engine, files_dir = db.engine, storage.root()
    refuse_unless_empty(engine, files_dir, force=force)
    staging = _stage_files(report, files_dir)
    try:
        how = _switch(report, engine, force=force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    moved = _move_into_place(staging, files_dir)
    db.session.remove()
    engine.dispose()
    notes = _after_restore(engine, report)
    return Restored(how, moved, report, notes)


def refuse_unless_empty(engine: Engine, files_dir: Path, *, force: bool) -> None:
    with engine.connect() as conn:
        tables = data_tables(conn) if inspect(conn).get_table_names() else []
    files = next(storage.iter_files(files_dir), None) is not None
    if (tables or files) and not force:
        what = []
        if tables:
            what.append(f"{len(tables)} tables have rows ({', '.join(tables[:4])}{', …' if len(tables) > 4 else ''})")
        if files:
            what.append(f"files are stored in {files_dir}")
        raise BackupError("The target instance is not empty: " + " and ".join(what) + ". Restore into an empty "
                          "instance (a new database and an empty UPLOAD_DIR), or pass --force to replace its "
                          "database (stored files are kept; those no row names are swept after the grace period).")


def _stage_files(report: Report, files_dir: Path) -> Path:
    staging = private_dir(files_dir / f".restore-{uuid.uuid4().hex[:12]}")
    source = report.path / "files"
    for relpath, _size in report.manifest.get("files", {}).get("list") or []:
        dest = staging / relpath
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(source / relpath, dest)
        os.chmod(dest, 0o600)
    return staging


def _move_into_place(staging: Path, files_dir: Path) -> int:
    moved = 0
    for item in storage.iter_files(staging):
        target = files_dir / item.relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.replace(item.path, target)
        moved += 1
    shutil.rmtree(staging, ignore_errors=True)
    return moved


def _switch(report: Report, engine: Engine, *, force: bool) -> str:
    method, dialect = report.method, engine.dialect.name
    if method == "sqlite":
        if dialect != "sqlite":
            raise BackupError("A SQLite backup restores into SQLite only; take a JSON backup (flask backup --json) "
                              "to move between databases.")
        return _switch_sqlite(report, engine)
    if method == "pg_dump":
        if dialect != "postgresql":
            raise BackupError("A pg_dump backup restores into PostgreSQL only; take a JSON backup "
                              "(flask backup --json) to move between databases.")
        return _switch_postgres(report, engine)
    return _switch_json(report, engine, force=force)


def _database_file(report: Report) -> Path:
    if report.manifest.get("legacy"):
        return report.path
    return report.path / report.manifest["database"]["file"]


def _expected(report: Report) -> dict[str, TableSum] | None:
    tables = report.manifest.get("tables")
    return {k: TableSum(v["rows"], v["sha256"]) for k, v in tables.items()} if isinstance(tables, dict) else None


def _check_sums(found: dict[str, TableSum], expected: dict[str, TableSum] | None, where: str) -> None:
    if expected is None:
        return
    bad = sorted(n for n in set(found) | set(expected) if found.get(n) != expected.get(n))
    if bad:
        raise BackupError(f"Not restored: {where} differs from the backup's manifest in "
                          f"{len(bad)} table(s): {', '.join(bad[:5])}.")


def _switch_sqlite(report: Report, engine: Engine) -> str:
    live = Path(engine.url.database)
    scratch = live.with_name(f".restore-{uuid.uuid4().hex[:12]}.sqlite3")
    os.close(os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        source = sqlite3.connect(f"file:{_database_file(report)}?mode=ro&immutable=1", uri=True)
        copy = sqlite3.connect(scratch)
        source.backup(copy)
        source.close()
        copy.close()
        with sqlite_file(scratch) as conn:
            if conn.exec_driver_sql("PRAGMA integrity_check").scalar() != "ok":
                raise BackupError("Not restored: the copy of the backup failed SQLite's integrity check.")
            _check_sums(table_sums(conn), _expected(report), "the scratch copy")
        copy = sqlite3.connect(f"file:{scratch}?mode=ro", uri=True)
        raw = engine.raw_connection()
        try:
            copy.backup(raw.driver_connection, pages=-1)  # one step: one write transaction
        finally:
            raw.close()
            copy.close()
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    engine.dispose()
    return "checked in a scratch copy, then copied in one step with SQLite's backup API"


def _switch_postgres(report: Report, engine: Engine) -> str:
    url = engine.url
    args, env = pg_args(url)
    with tempfile.TemporaryDirectory(prefix="stockroom-restore-") as work:
        work = Path(work)
        script = work / "restore.sql"
        code, err = run_tool(["pg_restore", "--no-owner", "--no-privileges", "-f", str(script),
                              str(_database_file(report))])
        if code != 0:
            raise BackupError(f"Not restored: pg_restore could not read the archive: {err.splitlines()[0]}")
        with engine.connect() as conn:
            (work / "before.sql").write_text(_drop_statements(conn))
        (work / "after.sql").write_text(_count_checks(_expected(report)))
        engine.dispose()
        code, err = run_tool(["psql", *args, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                              "-f", str(work / "before.sql"), "-f", str(script), "-f", str(work / "after.sql"),
                              "-d", url.database], env)
    if code != 0:
        lines = [line for line in err.splitlines() if "ERROR" in line] or err.splitlines() or ["no message"]
        raise BackupError(f"Not restored (the database is unchanged): {lines[0]}")
    with engine.connect() as conn:
        _check_sums(table_sums(conn), _expected(report), "the restored database")
    return "pg_restore's SQL run by psql in one transaction, row counts checked before it committed"


def _drop_statements(conn: Connection) -> str:
    """DROP statements for every table, view, sequence and type of schema public (not extensions')."""
    rows = conn.execute(text(
        "SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' "
        "ELSE 'TABLE' END, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND NOT EXISTS "
        "(SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') "
        "UNION ALL SELECT 'TYPE', t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') AND NOT EXISTS "
        "(SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')")).all()
    quote = conn.dialect.identifier_preparer.quote
    return "".join(f"DROP {kind} IF EXISTS public.{quote(name)} CASCADE;\n" for kind, name in rows)


def _count_checks(expected: dict[str, TableSum] | None) -> str:
    lines = []
    for name, want in sorted((expected or {}).items()):
        table = '"' + name.replace('"', '""') + '"'
        lines.append(f"DO $$ DECLARE n bigint; BEGIN SELECT count(*) INTO n FROM public.{table}; IF n <> {want.rows} "
                     f"THEN RAISE EXCEPTION 'table % has % rows after the restore, the backup has {want.rows}', "
                     f"'{name.replace(chr(39), '')}', n; END IF; END $$;\n")
    return "".join(lines)


def _switch_json(report: Report, engine: Engine, *, force: bool) -> str:
    doc = load_json_dump(_database_file(report))
    wanted = doc.get("revision") or report.manifest.get("revision")
    with engine.connect() as conn:
        has_tables = bool(inspect(conn).get_table_names())
        current = revision(conn) if has_tables else None
    if not has_tables:
        from flask_migrate import upgrade

        upgrade(revision=wanted or "heads")
    elif wanted and current != wanted:
        raise BackupError(f"Not restored: the backup is at schema revision {wanted}, this database at {current}. "
                          "Restore into an empty database (its schema is created at the backup's revision).")
    with engine.begin() as conn:
        meta = reflect(conn)
        if force:
            for table in reversed(meta.sorted_tables):
                if table.name != "alembic_version":
                    conn.execute(table.delete())
        _insert_rows(conn, meta, doc)
        _check_sums(table_sums(conn, meta), _expected(report), "the loaded database")
    return "loaded from the JSON dump in one transaction, checksums compared before it committed"


def _insert_rows(conn: Connection, meta, doc: dict) -> None:
    conn.execute(text("DELETE FROM alembic_version"))
    for table in meta.sorted_tables:
        data = doc["tables"].get(table.name)
        if not data or not data["rows"]:
            continue
        columns = [table.c[name] for name in data["columns"] if name in table.c]
        missing = set(data["columns"]) - {c.name for c in columns}
        if missing:
            raise BackupError(f"Not restored: table {table.name} has no column {', '.join(sorted(missing))}: "
                              "the backup is from another schema revision.")
        rows = [{c.name: _from_canonical(v, c) for c, v in zip(columns, row)} for row in data["rows"]]
        for start in range(0, len(rows), 1000):
            conn.execute(table.insert(), rows[start:start + 1000])
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        for table in meta.sorted_tables:
            if "id" in table.c and isinstance(table.c.id.type, Integer):
                name = quote(table.name)
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                                  f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false) "
                                  "WHERE pg_get_serial_sequence(:t, 'id') IS NOT NULL"), {"t": name})


def _from_canonical(value, column):
    import base64
    import json
    from datetime import date, datetime

    if value is None:
        return None
    kind = column.type
    if isinstance(kind, Boolean):
        return value == "1"
    if isinstance(kind, Integer):
        return int(value)
    if isinstance(kind, Numeric):
        return Decimal(value)
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, JSON):
        return json.loads(value)
    if isinstance(kind, LargeBinary) and value.startswith("b64:"):
        return base64.b64decode(value[4:])
    return value


def _after_restore(engine: Engine, report: Report) -> list[str]:
    """Runs that were going when the backup was taken are over; say what the operator does next."""
    notes = []
    with engine.begin() as conn:
        if inspect(conn).has_table("backup_runs"):
            conn.execute(text("UPDATE backup_runs SET status = 'failed', error = :why, holder = NULL, "
                              "lease_until = NULL WHERE status IN ('queued', 'running')"), {"why": INTERRUPTED})
        restored_at = revision(conn)
    notes.append(f"the database is at schema revision {restored_at}: run `flask db upgrade` if this code is newer")
    return notes
