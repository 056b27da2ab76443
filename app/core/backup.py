"""Backups: `flask backup`, `flask restore FILE`, `flask verify-backup FILE`, and a health check.

SQLite is copied with its online backup API (consistent while the app runs). PostgreSQL is dumped
with `pg_dump` inside an exported snapshot, so the table checksums written next to the dump describe
exactly what the dump holds; when pg_dump is missing or older than the server, every table is
written as portable JSON instead (and the command says which method was used). Each backup has a
manifest (`<file>.manifest.json`): method, revision, and per table the row count and a SHA-256 of
its rows in primary-key order, in a form that is the same on SQLite and PostgreSQL.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, LargeBinary, MetaData, Numeric, create_engine, inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SAWarning

from app.core.health import register_check
from app.extensions import db

PREFIX = "stockroom-"
SUFFIXES = {"sqlite": ".sqlite3", "pg_dump": ".pgdump", "json": ".json.gz"}
STALE_AFTER_HOURS = 26


class BackupError(Exception):
    """The backup or restore could not be done; the message says why and what to do."""


@dataclass
class TableSum:
    rows: int
    sha256: str


@dataclass
class BackupResult:
    path: Path
    method: str
    tables: dict[str, TableSum] = field(default_factory=dict)
    note: str = ""


# --- canonical rows -----------------------------------------------------------------------------

def canonical(value) -> str | None:
    """One text form per value whatever the database returned it as (checksums compare across engines)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, (bytes, memoryview)):
        return "b64:" + base64.b64encode(bytes(value)).decode()
    return str(value)


def _metadata(conn: Connection) -> MetaData:
    meta = MetaData()
    with warnings.catch_warnings():  # expression indexes are not needed to read or write rows
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        meta.reflect(bind=conn)
    return meta


def _ordered(table):
    keys = list(table.primary_key.columns) or list(table.columns)
    return select(table).order_by(*keys)


def _sum_rows(rows) -> TableSum:
    digest, count = hashlib.sha256(), 0
    for row in rows:
        digest.update(json.dumps(row, ensure_ascii=False).encode())
        digest.update(b"\n")
        count += 1
    return TableSum(count, digest.hexdigest())


def _canonical_rows(conn: Connection, table):
    for row in conn.execute(_ordered(table)):
        yield [canonical(v) for v in row]


def table_sums(conn: Connection) -> dict[str, TableSum]:
    """Row count and checksum of every table (alembic_version included)."""
    meta = _metadata(conn)
    return {name: _sum_rows(_canonical_rows(conn, table)) for name, table in sorted(meta.tables.items())}


# --- backup ---------------------------------------------------------------------------------------

def _backup_dir() -> Path:
    path = Path(current_app.config["BACKUP_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def _target(method: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return _backup_dir() / f"{PREFIX}{stamp}{SUFFIXES[method]}"


def _write_manifest(result: BackupResult, dialect: str, revision: str | None) -> None:
    manifest = {"method": result.method, "dialect": dialect, "revision": revision, "file": result.path.name,
                "created_at": datetime.now(UTC).isoformat(), "note": result.note,
                "tables": {k: {"rows": v.rows, "sha256": v.sha256} for k, v in result.tables.items()}}
    Path(str(result.path) + ".manifest.json").write_text(json.dumps(manifest, indent=1))


def _revision(conn: Connection) -> str | None:
    try:
        rows = conn.execute(text("SELECT version_num FROM alembic_version ORDER BY version_num")).scalars().all()
    except Exception:  # noqa: BLE001 - a database never migrated has no revision
        return None
    return ",".join(rows) or None


def backup_create(*, force_json: bool = False) -> BackupResult:
    """Write a consistent backup of the whole database into BACKUP_DIR and return what was written."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        result = _backup_sqlite(engine) if not force_json else _backup_json(engine)
    elif engine.dialect.name == "postgresql":
        result = _backup_postgres(engine, force_json)
    else:
        raise BackupError(f"Backups of {engine.dialect.name} databases are not supported.")
    return result


def _backup_sqlite(engine: Engine) -> BackupResult:
    target = _target("sqlite")
    raw = engine.raw_connection()
    try:
        dest = sqlite3.connect(target)
        with dest:
            raw.driver_connection.backup(dest)
        dest.close()
    finally:
        raw.close()
    check = create_engine(f"sqlite:///{target}")
    with check.connect() as conn:
        result = BackupResult(target, "sqlite", table_sums(conn), "SQLite online backup API")
        revision = _revision(conn)
    check.dispose()
    _write_manifest(result, "sqlite", revision)
    return result


def _pg_args(engine: Engine) -> tuple[list[str], dict]:
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = ["-h", url.host or "localhost", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    return args, env


def pg_dump_problem(engine: Engine) -> str | None:
    """Why pg_dump cannot be used for this server (None when it can)."""
    binary = shutil.which("pg_dump")
    if binary is None:
        return "pg_dump is not installed"
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    with engine.connect() as conn:
        server = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    if not match or int(match.group(1)) < server:
        return f"pg_dump {match.group(1) if match else '?'} is older than the server ({server})"
    return None


def _backup_postgres(engine: Engine, force_json: bool) -> BackupResult:
    problem = "JSON was asked for" if force_json else pg_dump_problem(engine)
    if problem:
        result = _backup_json(engine)
        result.note = f"portable JSON dump ({problem})"
        _write_manifest(result, "postgresql", _revision_of(engine))
        return result
    target = _target("pg_dump")
    args, env = _pg_args(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        run = subprocess.run(["pg_dump", *args, "--format=custom", "--no-owner", "--no-privileges",
                              f"--snapshot={snapshot}", "-f", str(target), engine.url.database],
                             env=env, capture_output=True, text=True, timeout=3600)
        if run.returncode != 0:
            target.unlink(missing_ok=True)
            conn.rollback()
            result = _backup_json(engine)
            result.note = f"portable JSON dump (pg_dump failed: {run.stderr.strip()[:300]})"
            _write_manifest(result, "postgresql", _revision_of(engine))
            return result
        result = BackupResult(target, "pg_dump", table_sums(conn), "pg_dump custom format, same snapshot as the sums")
        revision = _revision(conn)
        conn.rollback()
    _write_manifest(result, "postgresql", revision)
    return result


def _revision_of(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _revision(conn)


def _backup_json(engine: Engine) -> BackupResult:
    target = _target("json")
    tables: dict[str, TableSum] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        meta = _metadata(conn)
        with gzip.open(target, "wt", encoding="utf-8") as out:
            out.write('{"format": "stockroom-json-1", "tables": {')
            for n, table in enumerate(meta.sorted_tables):
                rows = list(_canonical_rows(conn, table))
                tables[table.name] = _sum_rows(rows)
                out.write(("," if n else "") + json.dumps(table.name) + ": ")
                json.dump({"columns": [c.name for c in table.columns], "rows": rows}, out, ensure_ascii=False)
            out.write("}}")
        revision = _revision(conn)
        conn.rollback()
    result = BackupResult(target, "json", dict(sorted(tables.items())), "portable JSON dump")
    if engine.dialect.name == "sqlite":
        _write_manifest(result, "sqlite", revision)
    return result


# --- reading a backup -----------------------------------------------------------------------------

def method_of(path: Path) -> str:
    for method, suffix in SUFFIXES.items():
        if path.name.endswith(suffix):
            return method
    raise BackupError(f"{path.name} is not a Stockroom backup (expected {', '.join(SUFFIXES.values())}).")


def manifest_of(path: Path) -> dict | None:
    side = Path(str(path) + ".manifest.json")
    return json.loads(side.read_text()) if side.exists() else None


def _load_json(path: Path) -> dict:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path.name} cannot be read: {exc}") from None
    if doc.get("format") != "stockroom-json-1":
        raise BackupError(f"{path.name} is not a Stockroom JSON backup.")
    return doc


def backup_sums(path: Path) -> tuple[dict[str, TableSum], str]:
    """Per-table sums of what a backup file holds, and where they came from."""
    path = Path(path)
    if not path.exists():
        raise BackupError(f"{path} does not exist.")
    method = method_of(path)
    if method == "sqlite":
        engine = create_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as conn:
                return table_sums(conn), "computed from the backup file"
        except Exception as exc:  # noqa: BLE001 - a damaged file is reported, not raised as a stack trace
            raise BackupError(f"{path.name} cannot be read as SQLite: {exc}") from None
        finally:
            engine.dispose()
    if method == "json":
        doc = _load_json(path)
        return ({name: _sum_rows(t["rows"]) for name, t in sorted(doc["tables"].items())},
                "computed from the backup file")
    listing = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True, timeout=300) \
        if shutil.which("pg_restore") else None
    if listing is not None and listing.returncode != 0:
        raise BackupError(f"{path.name} is not a readable pg_dump archive: {listing.stderr.strip()[:300]}")
    manifest = manifest_of(path)
    if manifest is None:
        raise BackupError(f"{path.name} has no manifest; its contents cannot be summed without restoring it.")
    return ({k: TableSum(v["rows"], v["sha256"]) for k, v in manifest["tables"].items()},
            "from the manifest written in the dump's snapshot" + ("" if listing else " (pg_restore missing)"))


def verify(path: Path, *, live: bool = True) -> list[dict]:
    """Compare a backup's tables with the live database (or just list them)."""
    sums, _ = backup_sums(path)
    current: dict[str, TableSum] = {}
    if live:
        with db.engine.connect() as conn:
            current = table_sums(conn)
    rows = []
    for name in sorted(set(sums) | set(current)):
        b, c = sums.get(name), current.get(name)
        rows.append({"table": name, "backup_rows": b.rows if b else None, "backup_sha256": b.sha256 if b else None,
                     "live_rows": c.rows if c else None, "live_sha256": c.sha256 if c else None,
                     "equal": (b is not None and c is not None and b.sha256 == c.sha256) if live else None})
    return rows


# --- restore --------------------------------------------------------------------------------------

def _data_rows(conn: Connection) -> int:
    meta = _metadata(conn)
    total = 0
    for table in meta.tables.values():
        if table.name != "alembic_version":
            total += conn.execute(select(table).limit(1)).first() is not None
    return total


def backup_restore(path: Path) -> str:
    """Load a backup into the configured database, which must be empty; returns what was done."""
    path = Path(path)
    method = method_of(path)
    if not path.exists():
        raise BackupError(f"{path} does not exist.")
    engine = db.engine
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        if tables and _data_rows(conn):
            raise BackupError("The target database has data. Restore only into an empty database "
                              "(create a new one and point DATABASE_URL at it).")
    if method == "sqlite":
        if engine.dialect.name != "sqlite":
            raise BackupError("A SQLite backup restores into SQLite only; use a JSON backup (flask backup --json) "
                              "to move between databases.")
        source = sqlite3.connect(path)
        raw = engine.raw_connection()
        try:
            source.backup(raw.driver_connection)
        finally:
            raw.close()
            source.close()
        engine.dispose()
        return "copied with the SQLite backup API"
    if method == "pg_dump":
        if engine.dialect.name != "postgresql":
            raise BackupError("A pg_dump backup restores into PostgreSQL only.")
        if tables:
            raise BackupError("pg_restore needs a database without tables; create a new, empty database.")
        args, env = _pg_args(engine)
        run = subprocess.run(["pg_restore", *args, "--no-owner", "--no-privileges", "--exit-on-error",
                              "-d", engine.url.database, str(path)], env=env, capture_output=True, text=True,
                             timeout=3600)
        if run.returncode != 0:
            raise BackupError(f"pg_restore failed: {run.stderr.strip()[:500]}")
        engine.dispose()
        return "restored with pg_restore"
    return _restore_json(engine, _load_json(path), has_tables=bool(tables))


def _from_canonical(value, column):
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


def _restore_json(engine: Engine, doc: dict, *, has_tables: bool) -> str:
    if not has_tables:
        from flask_migrate import upgrade

        upgrade(revision="heads")
    with engine.begin() as conn:
        meta = _metadata(conn)
        conn.execute(text("DELETE FROM alembic_version"))
        for table in meta.sorted_tables:
            data = doc["tables"].get(table.name)
            if not data or not data["rows"]:
                continue
            columns = [table.c[name] for name in data["columns"] if name in table.c]
            missing = set(data["columns"]) - {c.name for c in columns}
            if missing:
                raise BackupError(f"Table {table.name} has no column {', '.join(sorted(missing))}: the backup is "
                                  "from another schema revision.")
            rows = [{c.name: _from_canonical(v, c) for c, v in zip(columns, row)} for row in data["rows"]]
            for start in range(0, len(rows), 1000):
                conn.execute(table.insert(), rows[start:start + 1000])
        if engine.dialect.name == "postgresql":
            for table in meta.sorted_tables:
                if "id" in table.c and isinstance(table.c.id.type, Integer):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                      f"COALESCE((SELECT MAX(id) FROM \"{table.name}\"), 0) + 1, false)"))
    return "loaded from the portable JSON dump"


# --- health and commands --------------------------------------------------------------------------

def latest_backup() -> Path | None:
    folder = Path(current_app.config["BACKUP_DIR"])
    if not folder.is_dir():
        return None
    files = [p for p in folder.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(tuple(SUFFIXES.values()))]
    return max(files, key=lambda p: p.stat().st_mtime, default=None)


def _health() -> tuple[str, str]:
    path = latest_backup()
    if path is None:
        return "warning", "no backup yet: run `flask backup`"
    age_h = (datetime.now(UTC).timestamp() - path.stat().st_mtime) / 3600
    age = f"{age_h * 60:.0f} min" if age_h < 1 else f"{age_h:.1f} h" if age_h < 48 else f"{age_h / 24:.1f} days"
    return ("ok" if age_h <= STALE_AFTER_HOURS else "warning"), f"last {path.name} ({method_of(path)}), {age} ago"


register_check("backups", _health)


@click.command("backup")
@click.option("--json", "force_json", is_flag=True, help="write the portable JSON dump (moves between SQLite and PostgreSQL)")
def backup_command(force_json: bool) -> None:
    """Back up the whole database into BACKUP_DIR with a timestamp."""
    try:
        result = backup_create(force_json=force_json)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(t.rows for t in result.tables.values())
    click.echo(f"{result.path}\nmethod: {result.method} ({result.note}); {len(result.tables)} tables, {rows} rows")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
def restore_command(file: str) -> None:
    """Restore a backup into the configured (empty) database."""
    try:
        how = backup_restore(Path(file))
        rows = verify(Path(file))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    bad = [r["table"] for r in rows if not r["equal"]]
    click.echo(f"restored {file}: {how}; " + (f"DIFFERENT tables: {', '.join(bad)}" if bad
                                              else f"all {len(rows)} tables equal to the backup"))
    if bad:
        raise SystemExit(1)


@click.command("verify-backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--no-live", is_flag=True, help="only print the backup's counts and checksums")
def verify_command(file: str, no_live: bool) -> None:
    """Row counts and checksums per table, compared with the live database."""
    try:
        rows = verify(Path(file), live=not no_live)
        _, source = backup_sums(Path(file))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup sums {source}")
    for r in rows:
        state = "" if no_live else ("equal" if r["equal"] else "DIFFERENT")
        live = "" if no_live else f" live {r['live_rows'] if r['live_rows'] is not None else '-':>7}"
        sha = (r["backup_sha256"] or "-")[:16]
        click.echo(f"{r['table']:32} backup {r['backup_rows'] if r['backup_rows'] is not None else '-':>7}{live}"
                   f"  {sha}  {state}")
    if not no_live:
        bad = [r for r in rows if not r["equal"]]
        click.echo(f"{len(rows) - len(bad)} of {len(rows)} tables equal" + ("" if bad else ": the backup matches"))
        if bad:
            raise SystemExit(1)


def register_commands(app) -> None:
    for command in (backup_command, restore_command, verify_command):
        app.cli.add_command(command)
