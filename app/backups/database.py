"""Dumping the database into a backup folder, and the PostgreSQL tools used to read dumps back.

SQLite is copied with its online backup API (consistent while the app runs). PostgreSQL is dumped
with `pg_dump --format=custom` inside an exported snapshot, and the row sums and schema
fingerprint are taken in that same snapshot, so the manifest describes exactly what the dump
holds. When pg_dump is missing, older than the server, or fails, every table is written as
portable JSON instead (and the backup says which method was used and why).
"""
from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, Engine, make_url

from app.backups.canonical import (
    OWN_TABLES,
    TableSum,
    canonical_rows,
    reflect,
    revision,
    schema_fingerprint,
    sum_rows,
    table_sums,
)
from app.backups.layout import DB_FILES, BackupError
from app.backups.references import References, scan

JSON_FORMAT = "stockroom-json-1"
TOOL_TIMEOUT = 6 * 3600


@dataclass
class Dump:
    method: str
    file: Path
    dialect: str
    tables: dict[str, TableSum] = field(default_factory=dict)
    schema: dict = field(default_factory=dict)
    revision: str | None = None
    note: str = ""
    references: References = field(default_factory=References)


def dump_database(engine: Engine, folder: Path, *, force_json: bool = False) -> Dump:
    """Write the database into `folder` (database.* file, 0600) and describe what was written."""
    if engine.dialect.name == "sqlite":
        return _dump_json(engine, folder) if force_json else _dump_sqlite(engine, folder)
    if engine.dialect.name == "postgresql":
        return _dump_postgres(engine, folder, force_json)
    raise BackupError(f"Backups of {engine.dialect.name} databases are not supported.")


def _private_new(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def _dump_sqlite(engine: Engine, folder: Path) -> Dump:
    target = folder / DB_FILES["sqlite"]
    os.close(_private_new(target))
    raw = engine.raw_connection()
    try:
        dest = sqlite3.connect(target)
        with dest:
            raw.driver_connection.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        dest.close()
    finally:
        raw.close()
    with sqlite_file(target) as conn:
        meta = reflect(conn)
        return Dump("sqlite", target, "sqlite", table_sums(conn, meta), schema_fingerprint(conn), revision(conn),
                    "SQLite online backup API", scan(conn, meta))


@contextmanager
def sqlite_file(path: Path, *, readonly: bool = True) -> Iterator[Connection]:
    """A connection to a SQLite file; read-only files are opened without ever writing to them."""
    url = f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true" if readonly else f"sqlite:///{path}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _dump_postgres(engine: Engine, folder: Path, force_json: bool) -> Dump:
    problem = "JSON was asked for" if force_json else pg_dump_problem(engine)
    if problem:
        dump = _dump_json(engine, folder)
        dump.note = f"portable JSON dump ({problem})"
        return dump
    target = folder / DB_FILES["pg_dump"]
    args, env = pg_args(engine.url)
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        code, err = run_tool(["pg_dump", *args, "--format=custom", "--no-owner", "--no-privileges",
                              f"--snapshot={snapshot}", "-f", str(target), "-d", engine.url.database], env)
        if code == 0:
            os.chmod(target, 0o600)
            meta = reflect(conn)
            dump = Dump("pg_dump", target, "postgresql", table_sums(conn, meta), schema_fingerprint(conn),
                        revision(conn), "pg_dump custom format, sums taken in the same snapshot", scan(conn, meta))
        conn.rollback()
    if code != 0:
        target.unlink(missing_ok=True)
        dump = _dump_json(engine, folder)
        dump.note = f"portable JSON dump (pg_dump failed: {err[:300]})"
    return dump


def _dump_json(engine: Engine, folder: Path) -> Dump:
    target = folder / DB_FILES["json"]
    tables: dict[str, TableSum] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        meta = reflect(conn)
        with os.fdopen(_private_new(target), "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as gz, \
                io.TextIOWrapper(gz, encoding="utf-8") as out:
            out.write(json.dumps({"format": JSON_FORMAT, "revision": revision(conn)})[:-1] + ', "tables": {')
            for n, table in enumerate(meta.sorted_tables):
                rows = list(canonical_rows(conn, table))
                if table.name not in OWN_TABLES:
                    tables[table.name] = sum_rows(rows)
                out.write(("," if n else "") + json.dumps(table.name) + ": ")
                json.dump({"columns": [c.name for c in table.columns], "rows": rows}, out, ensure_ascii=False)
            out.write("}}")
        dump = Dump("json", target, engine.dialect.name, {}, schema_fingerprint(conn), revision(conn),
                    "portable JSON dump", scan(conn, meta))
        conn.rollback()
    dump.tables = dict(sorted(tables.items()))
    return dump


def load_json_dump(path: Path) -> dict:
    """The whole JSON dump, or BackupError saying what is wrong with the file."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
    except EOFError:
        raise BackupError(f"{path.name} is cut short (the compressed data ends before its end marker): "
                          "the file is incomplete.") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise BackupError(f"{path.name} is damaged: it is not valid gzip data ({exc}).") from None
    except UnicodeDecodeError:
        raise BackupError(f"{path.name} is damaged: its text is not valid UTF-8.") from None
    except ValueError as exc:
        raise BackupError(f"{path.name} is damaged: its JSON cannot be read ({exc}).") from None
    except OSError as exc:
        raise BackupError(f"{path.name} cannot be read: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != JSON_FORMAT or not isinstance(doc.get("tables"), dict):
        raise BackupError(f"{path.name} is not a Stockroom JSON dump.")
    for name, table in doc["tables"].items():
        if not isinstance(table, dict) or not isinstance(table.get("rows"), list) \
                or not isinstance(table.get("columns"), list):
            raise BackupError(f"{path.name}: table {name} is not in the dump's format.")
    return doc


def json_dump_sums(doc: dict) -> dict[str, TableSum]:
    return {name: sum_rows(t["rows"]) for name, t in sorted(doc["tables"].items())
            if name not in OWN_TABLES}


# --- PostgreSQL tools ---------------------------------------------------------------------------

def pg_args(url: URL) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump, pg_restore and psql (the password goes in the environment)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return ["-h", url.host or "localhost", "-p", str(url.port or 5432), "-U", url.username or "postgres"], env


def run_tool(cmd: list[str], env: dict | None = None, *, timeout: int = TOOL_TIMEOUT) -> tuple[int, str]:
    """Run a PostgreSQL tool: (exit code, its error output as text whatever bytes it printed)."""
    if shutil.which(cmd[0]) is None:
        return 127, f"{cmd[0]} is not installed"
    try:
        run = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, f"{cmd[0]} did not finish within {timeout} s"
    return run.returncode, run.stderr.decode("utf-8", errors="replace").strip()


def pg_dump_problem(engine: Engine) -> str | None:
    """Why pg_dump cannot be used for this server (None when it can)."""
    binary = shutil.which("pg_dump")
    if binary is None:
        return "pg_dump is not installed"
    out = subprocess.run([binary, "--version"], capture_output=True, timeout=30).stdout.decode(errors="replace")
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    with engine.connect() as conn:
        server = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    if not match or int(match.group(1)) < server:
        return f"pg_dump {match.group(1) if match else '?'} is older than the server ({server})"
    return None


@contextmanager
def scratch_database(server_url: str | URL) -> Iterator[URL]:
    """A new, empty PostgreSQL database on `server_url`'s server, dropped afterwards."""
    server = make_url(server_url)
    name = f"stockroom_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no right to create databases, server down: say so
        admin.dispose()
        raise BackupError(f"A scratch database could not be created on {server.host}: "
                          f"{str(exc).splitlines()[0]}") from None
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pg_restore_into(url: URL, archive: Path) -> None:
    """Load a custom-format dump into an empty database (stops at the first error)."""
    args, env = pg_args(url)
    code, err = run_tool(["pg_restore", *args, "--no-owner", "--no-privileges", "--exit-on-error",
                          "-d", url.database, str(archive)], env)
    if code != 0:
        raise BackupError(f"{archive.name}: pg_restore failed: {_first_lines(err)}")


def _first_lines(err: str, n: int = 3) -> str:
    return " / ".join(line for line in err.splitlines()[:n]) or "no message"
