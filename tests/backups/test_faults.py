"""Faults: corrupted backups fail verification and are never restored; a failed restore changes
nothing and can be retried; a backup killed half-way leaves nothing that looks complete."""
from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from app.backups import archive, layout, restore
from app.backups.verify import verify_backup
from app.extensions import db
from tests.backups.conftest import invoke
from tests.conftest import ROOT


def _rewrite_manifest(path: Path, **database) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["database"].update(database)
    (path / "manifest.json").write_text(json.dumps(manifest))


def _sha(path: Path) -> str:
    return archive.file_sha256(path)


def _assert_empty(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        rows = sum(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables
                   if t not in ("alembic_version", "backup_runs"))
    engine.dispose()
    assert rows == 0


@pytest.fixture
def sqlite_only():
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a .sqlite3 backup is made on SQLite")


def test_one_row_edited_in_a_sqlite_backup_fails_verify_and_restore(app, some_rows, sqlite_only, other_instance,
                                                                    empty_database):
    made = archive.backup_create()
    database = made.backup.path / "database.sqlite3"
    conn = sqlite3.connect(database)
    with conn:
        conn.execute("UPDATE inventory_items SET title = 'edited'")
    conn.close()
    result = invoke(app, "verify-backup", str(made.backup.path))
    assert result.exit_code == 1
    assert "database.sqlite3: its SHA-256 differs from the manifest's" in result.output
    assert "table inventory_items" in result.output and "checksum differs" in result.output
    # Even with the file's checksum and size written back into the manifest, the rows do not match.
    _rewrite_manifest(made.backup.path, sha256=_sha(database), size=database.stat().st_size)
    report = verify_backup(made.backup.path)
    assert [p.where for p in report.problems] == ["database.sqlite3"]
    assert "table inventory_items" in report.problems[0].reason
    restored = invoke(other_instance(), "restore", str(made.backup.path))
    assert restored.exit_code == 1 and "failed its check" in restored.output
    _assert_empty(empty_database)


def test_one_row_edited_in_a_json_backup_fails_verify(app, some_rows):
    made = archive.backup_create(force_json=True)
    database = made.backup.path / "database.json.gz"
    doc = json.loads(gzip.decompress(database.read_bytes()))
    rows = doc["tables"]["inventory_items"]["rows"]
    rows[0][doc["tables"]["inventory_items"]["columns"].index("title")] = "edited"
    database.write_bytes(gzip.compress(json.dumps(doc).encode()))
    _rewrite_manifest(made.backup.path, sha256=_sha(database), size=database.stat().st_size)
    result = invoke(app, "verify-backup", str(made.backup.path))
    assert result.exit_code == 1
    assert "database.json.gz: table inventory_items: 1 rows read back, the manifest says 1; their checksum differs" \
        in result.output


def test_a_truncated_json_backup_says_what_is_wrong(app, some_rows):
    made = archive.backup_create(force_json=True)
    database = made.backup.path / "database.json.gz"
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])
    _rewrite_manifest(made.backup.path, sha256=_sha(database), size=database.stat().st_size)
    for command in ("verify-backup", "restore"):
        result = invoke(app, command, str(made.backup.path))
        assert result.exit_code == 1
        assert "cut short" in result.output and "Aborted" not in result.output and "Traceback" not in result.output


def test_a_changed_stored_file_fails_verify(app, full_instance):
    made = archive.backup_create()
    relpath = made.manifest["files"]["list"][0][0]
    target = made.backup.path / "files" / relpath
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    os.chmod(target, 0o600)
    target.unlink()  # the file is shared with the store by nothing, but may be linked: write a new inode
    target.write_bytes(bytes(data))
    (made.backup.path / "files" / "00").mkdir(exist_ok=True)
    result = invoke(app, "verify-backup", str(made.backup.path))
    assert result.exit_code == 1
    assert f"files/{relpath}: its bytes do not hash to its name" in result.output


def test_a_file_named_by_a_row_but_missing_from_the_backup_fails_verify(app, full_instance):
    made = archive.backup_create()
    manifest = json.loads((made.backup.path / "manifest.json").read_text())
    gone = manifest["files"]["list"].pop(0)[0]
    (made.backup.path / "files" / gone).unlink()
    (made.backup.path / "manifest.json").write_text(json.dumps(manifest))
    report = verify_backup(made.backup.path)
    assert any(f"files/{gone}".startswith(p.where) and "but not in the backup" in p.reason for p in report.problems)


def _pg_toc_flip(path: Path, needle: bytes, new: int) -> None:
    data = bytearray(path.read_bytes())
    at = data.find(needle)
    assert at > 0, needle
    data[at + len(needle) - 1] = new
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("needle,new", [(b"(reserved >= 0)", ord("1")), (b"CREATE TABLE public.inventory_items", 0xFF)],
                         ids=["check-constraint", "table-name"])
def test_a_flipped_byte_in_a_pg_dump_toc_fails_verify_and_restore(app, some_rows, other_instance, empty_database,
                                                                   needle, new):
    if db.engine.dialect.name != "postgresql" or archive.dump_database.__module__ is None:
        pytest.skip("pg_dump archives are made on PostgreSQL")
    made = archive.backup_create()
    assert made.manifest["method"] == "pg_dump"
    database = made.backup.path / "database.pgdump"
    _pg_toc_flip(database, needle, new)
    result = invoke(app, "verify-backup", str(made.backup.path))
    assert result.exit_code == 1 and "database.pgdump: its SHA-256 differs" in result.output
    _rewrite_manifest(made.backup.path, sha256=_sha(database))
    again = invoke(app, "verify-backup", str(made.backup.path))
    assert again.exit_code == 1 and "the backup is good" not in again.output and "Traceback" not in again.output
    assert "database.pgdump" in again.output
    restored = invoke(other_instance(), "restore", str(made.backup.path))
    assert restored.exit_code == 1 and "failed its check" in restored.output
    _assert_empty(empty_database)


def test_a_failed_restore_leaves_the_target_as_it_was_and_can_be_retried(app, full_instance, other_instance,
                                                                          empty_database, monkeypatch, tmp_path):
    made = archive.backup_create()
    calls = {"n": 0}
    real = restore._check_sums

    def failing_once(found, expected, where):
        calls["n"] += 1
        if calls["n"] == 1:
            expected = {**expected, "inventory_items": type(next(iter(expected.values())))(999, "0" * 64)}
        return real(found, expected, where)

    monkeypatch.setattr(restore, "_check_sums", failing_once)
    if db.engine.dialect.name == "postgresql":  # the check inside the transaction is the one that fails
        real_counts = restore._count_checks
        monkeypatch.setattr(restore, "_count_checks", lambda expected: real_counts(
            {**expected, "inventory_items": type(expected["inventory_items"])(999, "x")}) if calls["n"] == 0
            else real_counts(expected))
        calls["n"] = 0
    target = other_instance()
    failed = invoke(target, "restore", str(made.backup.path))
    assert failed.exit_code == 1 and "Not restored" in failed.output, failed.output
    _assert_empty(empty_database)
    uploads = Path(target.config["UPLOAD_DIR"])
    assert not uploads.exists() or not any(uploads.iterdir())
    calls["n"] = 5
    retried = invoke(target, "restore", str(made.backup.path))
    assert retried.exit_code == 0, retried.output


KILL_HALF_WAY = """
import os, signal, sys
from app import create_app
from app.backups import archive
app = create_app()
def die(*a, **k):
    os.kill(os.getpid(), signal.SIGKILL)
archive.copy_files = die
with app.app_context():
    archive.backup_create()
"""


def test_a_backup_killed_half_way_leaves_nothing_that_looks_complete(app, full_instance, tmp_path):
    db.session.commit()
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               REDIS_NAMESPACE=app.config["REDIS_NAMESPACE"], UPLOAD_DIR=app.config["UPLOAD_DIR"],
               BACKUP_DIR=app.config["BACKUP_DIR"], STOCKROOM_INSTANCE=str(tmp_path / "killed"),
               SECRET_KEY=app.config["SECRET_KEY"])
    run = subprocess.run([sys.executable, "-c", KILL_HALF_WAY], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert run.returncode == -9, run.stderr.decode()[-2000:]
    folder = Path(app.config["BACKUP_DIR"])
    partials = [p for p in folder.iterdir() if p.name.startswith(layout.PARTIAL)]
    assert len(partials) == 1 and (partials[0] / "database.sqlite3").exists() or \
        (partials[0] / "database.pgdump").exists()
    assert layout.list_backups() == []
    assert not [p for p in folder.iterdir() if p.name.startswith(layout.PREFIX)]
    result = invoke(app, "verify-backup", str(partials[0]))
    assert result.exit_code == 1 and "unfinished backup" in result.output
    made = archive.backup_create()
    assert not partials[0].exists()
    assert [b.name for b in layout.list_backups()] == [made.backup.name]
