"""Checking a backup: every checksum its manifest holds is compared, and the database is read back.

  1. the manifest is readable and complete;
  2. the database file has the size and SHA-256 the manifest gives;
  3. the database is read back whole: a SQLite file is opened read-only and passes
     `PRAGMA integrity_check`; a JSON dump is decompressed and parsed; a pg_dump archive is listed
     (`pg_restore --list`) and restored into a scratch database. Per table, the row count and
     checksum must equal the manifest's, and so must the schema fingerprint (indexes, constraints);
  4. every stored file the manifest lists is there with its size, and its bytes hash to its name;
     nothing else is in the files folder;
  5. every file the backup's own rows name is among them (or was already missing from the store
     when the backup was taken, which the manifest says and the report repeats).
Any mismatch is a problem naming the file and the reason; a backup with a problem is not good.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from app.backups.canonical import TableSum, reflect, schema_fingerprint, table_sums
from app.backups.database import (
    json_dump_sums,
    load_json_dump,
    pg_restore_into,
    run_tool,
    scratch_database,
    sqlite_file,
)
from app.backups.layout import DB_FILES, FORMAT, MANIFEST, Backup, BackupError, legacy_method, read_json, resolve
from app.backups.references import References, scan, scan_dump
from app.core import storage
from app.extensions import db

RELPATH = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})(\.[A-Za-z0-9]{1,16})?$")
CHUNK = 1 << 20


@dataclass
class Problem:
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class Report:
    path: Path
    method: str = "?"
    manifest: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: dict = field(default_factory=dict)
    tables: dict[str, TableSum] = field(default_factory=dict)  # as read back from the backup

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, where: str, reason: str) -> None:
        self.problems.append(Problem(where, reason))

    def first_problems(self, n: int = 5) -> str:
        more = len(self.problems) - n
        return "; ".join(map(str, self.problems[:n])) + (f" (and {more} more)" if more > 0 else "")


def verify_backup(target: str | Path, *, partial: bool = False) -> Report:
    """Check a backup folder (or an older single-file backup) completely; see the module's steps."""
    resolved = Backup(Path(target)) if partial else resolve(target)
    if isinstance(resolved, Path):
        return _verify_legacy(resolved)
    folder = resolved.path
    report = Report(folder)
    try:
        manifest = _manifest(folder)
    except BackupError as exc:
        report.fail(MANIFEST, str(exc))
        return report
    report.manifest, report.method = manifest, manifest["method"]
    database = folder / manifest["database"]["file"]
    if _database_file_ok(report, database, manifest["database"]):
        refs = _content(report, database, manifest)
        present = _files(report, folder / "files", manifest["files"]["list"])
        if refs is not None:
            _references(report, refs, present, manifest)
    return report


def _manifest(folder: Path) -> dict:
    manifest = read_json(folder / MANIFEST)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown format {manifest.get('format')!r} (expected {FORMAT})")
    try:
        assert manifest["method"] in DB_FILES and manifest["database"]["file"] == DB_FILES[manifest["method"]]
        assert isinstance(manifest["tables"], dict) and isinstance(manifest["files"]["list"], list)
        int(manifest["database"]["size"]), str(manifest["database"]["sha256"])
    except (AssertionError, KeyError, TypeError, ValueError):
        raise BackupError("the manifest is incomplete or not in the expected form") from None
    return manifest


def _database_file_ok(report: Report, database: Path, expected: dict) -> bool:
    if not database.is_file():
        report.fail(database.name, "missing")
        return False
    size = database.stat().st_size
    if size != expected["size"]:
        report.fail(database.name, f"{size} bytes, the manifest says {expected['size']}")
    elif _sha256(database) != expected["sha256"]:
        report.fail(database.name, "its SHA-256 differs from the manifest's: the file was changed or damaged")
    report.checked["database_sha256"] = True
    return True


def _content(report: Report, database: Path, manifest: dict) -> References | None:
    """Read the database back whole; compare its tables and schema with the manifest."""
    try:
        if report.method == "sqlite":
            refs = _sqlite_content(report, database, manifest)
        elif report.method == "json":
            doc = load_json_dump(database)
            report.tables, report.checked["read_back"] = json_dump_sums(doc), True
            refs = scan_dump(doc["tables"])
        else:
            refs = _pg_content(report, database, manifest)
    except BackupError as exc:
        report.fail(database.name, str(exc).removeprefix(f"{database.name}: ").removeprefix(f"{database.name} "))
        return None
    if report.checked.get("read_back") and isinstance(manifest.get("tables"), dict):
        _compare_tables(report, database.name, manifest["tables"])
    return refs


def _sqlite_content(report: Report, database: Path, manifest: dict) -> References:
    try:
        with sqlite_file(database) as conn:
            verdict = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
            if verdict != ["ok"]:
                raise BackupError(f"{database.name}: SQLite integrity check failed: {'; '.join(verdict[:3])}")
            return _read_back(report, conn, database.name, manifest)
    except BackupError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file is reported, not raised as a stack trace
        raise BackupError(f"{database.name}: cannot be read as SQLite: {str(exc).splitlines()[0]}") from None


def _read_back(report: Report, conn: Connection, label: str, manifest: dict) -> References:
    meta = reflect(conn)
    report.tables, report.checked["read_back"] = table_sums(conn, meta), True
    expected = manifest.get("schema") or {}
    if expected.get("dialect") == conn.dialect.name:
        found = schema_fingerprint(conn)
        if found["sha256"] != expected.get("sha256"):
            report.fail(label, "the schema differs from the manifest's: "
                        + ", ".join(f"{k} {found[k]} (manifest {expected.get(k)})"
                                    for k in ("tables", "indexes", "constraints")))
        report.checked["schema"] = True
    return scan(conn, meta)


def _pg_content(report: Report, archive: Path, manifest: dict) -> References | None:
    code, err = run_tool(["pg_restore", "--list", str(archive)], timeout=600)
    if code != 0:
        raise BackupError(f"{archive.name}: not a readable pg_dump archive: {err.splitlines()[0] if err else code}")
    report.checked["pg_restore_list"] = True
    server = scratch_server()
    if server is None:
        code, err = run_tool(["pg_restore", "-f", "/dev/null", str(archive)])
        if code != 0:
            raise BackupError(f"{archive.name}: the archive cannot be read to its end: {err.splitlines()[0]}")
        report.notes.append("rows and references not compared: no PostgreSQL server to restore into "
                            "(set BACKUP_SCRATCH_URL); the whole archive was read")
        return None
    with scratch_database(server) as url:
        pg_restore_into(url, archive)
        report.checked["scratch_restore"] = True
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                return _read_back(report, conn, archive.name, manifest)
        finally:
            engine.dispose()


def scratch_server() -> str | None:
    """The PostgreSQL server where scratch databases are made (the app's own when it runs on one)."""
    configured = current_app.config.get("BACKUP_SCRATCH_URL")
    if configured:
        return configured
    return db.engine.url if db.engine.dialect.name == "postgresql" else None


def _compare_tables(report: Report, label: str, expected: dict) -> None:
    found = report.tables
    for name in sorted(set(expected) | set(found)):
        want, got = expected.get(name), found.get(name)
        if got is None:
            report.fail(label, f"table {name} is in the manifest but not in the database file")
        elif want is None:
            report.fail(label, f"table {name} is in the database file but not in the manifest")
        elif got.rows != want.get("rows") or got.sha256 != want.get("sha256"):
            report.fail(label, f"table {name}: {got.rows} rows read back, the manifest says {want.get('rows')}"
                        + ("" if got.rows != want.get("rows") else "; their checksum differs"))
    report.checked["tables"] = len(found)


def _files(report: Report, folder: Path, listed: list) -> set[str]:
    """Check every listed file; the hashes of those that are good."""
    good, names = set(), set()
    for entry in listed:
        try:
            relpath, size = str(entry[0]), int(entry[1])
            match = RELPATH.match(relpath)
            assert match and match.group(1) == match.group(3)[:2] and match.group(2) == match.group(3)[2:4]
        except (AssertionError, IndexError, TypeError, ValueError):
            report.fail(MANIFEST, f"file entry {entry!r} is not a stored file's path and size")
            continue
        names.add(relpath)
        if _file_ok(report, folder / relpath, relpath, size, match.group(3)):
            good.add(match.group(3))
    for extra in storage.iter_files(folder):
        if extra.relpath not in names:
            report.fail(f"files/{extra.relpath}", "is not in the manifest")
    report.checked["files"] = len(good)
    return good


def _file_ok(report: Report, path: Path, relpath: str, size: int, sha: str) -> bool:
    where = f"files/{relpath}"
    if not path.is_file():
        report.fail(where, "missing")
        return False
    if path.stat().st_size != size:
        report.fail(where, f"{path.stat().st_size} bytes, the manifest says {size}")
        return False
    if _sha256(path) != sha:
        report.fail(where, "its bytes do not hash to its name: the file was changed or damaged")
        return False
    return True


def _references(report: Report, refs: References, present: set[str], manifest: dict) -> None:
    known_missing = {m.get("sha256") for m in (manifest.get("references") or {}).get("missing") or []
                     if isinstance(m, dict)}
    absent = sorted(refs.hashes - present)
    for sha in absent:
        if sha in known_missing:
            continue
        report.fail(f"files/{sha[:2]}/{sha[2:4]}/{sha}", "named by " + ", ".join(sorted(refs.where[sha]))
                    + " but not in the backup")
    lacking = len([s for s in absent if s in known_missing])
    if lacking:
        report.notes.append(f"{lacking} file(s) named by rows were already missing from the store when the "
                            "backup was taken (see the manifest's references.missing)")
    report.checked["references"] = len(refs)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_legacy(path: Path) -> Report:
    """An older single-file backup: its tables against the manifest beside it (no stored files in it)."""
    report = Report(path, legacy_method(path))
    side = Path(str(path) + ".manifest.json")
    manifest = read_json(side) if side.exists() else {}
    report.manifest = {"method": report.method, "legacy": True, "tables": manifest.get("tables"),
                       "revision": manifest.get("revision"), "dialect": manifest.get("dialect")}
    report.notes.append("an older single-file backup: database only, no stored files")
    if not manifest:
        report.notes.append("no manifest beside the file: its contents were read but not compared")
    _content(report, path, report.manifest)
    return report


def compare_live(report: Report) -> list[dict]:
    """The backup's tables next to the live database's, per table."""
    with db.engine.connect() as conn:
        current = table_sums(conn)
    expected = {k: TableSum(v["rows"], v["sha256"]) for k, v in (report.manifest.get("tables") or {}).items()}
    rows = []
    for name in sorted(set(expected) | set(current)):
        b, c = expected.get(name), current.get(name)
        rows.append({"table": name, "backup_rows": b.rows if b else None, "live_rows": c.rows if c else None,
                     "backup_sha256": b.sha256 if b else None,
                     "equal": b is not None and c is not None and b.sha256 == c.sha256})
    return rows
