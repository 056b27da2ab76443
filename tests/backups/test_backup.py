"""Backups: database and files, verified; restore into an empty instance serves every file again."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from app.backups import archive, layout
from app.backups.canonical import canonical
from app.backups.verify import verify_backup
from app.core.health import check_all
from app.extensions import db
from tests.backups.conftest import invoke
from tests.conftest import PASSWORD


def _sign_in(target_app, email: str):
    from tests.conftest import Client

    target_app.test_client_class = Client
    client = target_app.test_client()
    client.fetch_csrf()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    return client


@pytest.mark.parametrize("as_json", [False, True], ids=["native", "json"])
def test_backup_wipe_restore_serves_every_file_with_the_same_bytes(app, full_instance, other_instance, manager,
                                                                   as_json):
    result = app.test_cli_runner().invoke(args=["backup"] + (["--json"] if as_json else []))
    assert result.exit_code == 0, result.output
    path = Path(result.output.splitlines()[0])
    assert path.parent == Path(app.config["BACKUP_DIR"]) and (path / "verified.json").exists()
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["files"]["count"] == 9 and manifest["references"]["missing_count"] == 0
    email = manager.email  # read in this app: the other app's context must not load the test's objects
    target = other_instance()
    restored = invoke(target, "restore", str(path))
    assert restored.exit_code == 0, restored.output
    assert "tables equal to the backup" in restored.output and "9 files in place" in restored.output
    with target.app_context():
        client = _sign_in(target, email)
        for url, body in full_instance.urls.items():
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.get_data() == body, url
        from app.core import storage

        for name, body in full_instance.stored.items():
            assert storage.open_path(name[:64], name[64:]).read_bytes() == body
        engine = db.engine
        with engine.connect() as conn:
            assert conn.execute(text("SELECT on_hand, reserved FROM inventory_items")).one() == (7, 2)
        db.session.remove()
        engine.dispose()


def test_a_second_backup_links_the_files_it_already_has(app, full_instance):
    first = archive.backup_create()
    from app.core import storage

    storage.save_bytes(b"one more file")
    second = archive.backup_create()
    files = second.manifest["files"]
    assert files["count"] == 10 and files["copied"] == 1 and files["linked"] == 9
    listed = {r: s for r, s in second.manifest["files"]["list"]}
    some = next(iter(first.manifest["files"]["list"]))[0]
    assert os.stat(first.backup.path / "files" / some).st_ino == os.stat(second.backup.path / "files" / some).st_ino
    assert len(listed) == 10


def test_backup_files_are_private(app, full_instance):
    made = archive.backup_create()
    for path in [made.backup.path, *made.backup.path.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_restore_refuses_an_instance_with_data_unless_forced(app, some_rows, other_instance):
    made = archive.backup_create()
    result = invoke(app, "restore", str(made.backup.path))
    assert result.exit_code == 1 and "not empty" in result.output and "--force" in result.output
    assert "Traceback" not in result.output
    forced = invoke(app, "restore", "--force", str(made.backup.path))
    assert forced.exit_code == 0, forced.output


def test_health_shows_the_newest_verified_backup_and_its_age(app, org):
    assert check_all()["components"]["backups"]["detail"].startswith("no verified backup yet")
    made = archive.backup_create()
    component = check_all()["components"]["backups"]
    assert component["status"] == "ok" and made.backup.name in component["detail"] and "ago" in component["detail"]


def test_verify_compares_with_the_live_database_when_asked(app, some_rows):
    made = archive.backup_create()
    same = invoke(app, "verify-backup", "--live", str(made.backup.path))
    assert same.exit_code == 0 and "tables equal to the live database" in same.output
    with app.app_context():
        db.session.execute(text("UPDATE inventory_items SET title = 'changed'"))
        db.session.commit()
    changed = invoke(app, "verify-backup", "--live", str(made.backup.path))
    assert changed.exit_code == 1 and "DIFFERENT from the live database: inventory_items" in changed.output


def test_older_single_file_backups_are_still_read(app, some_rows, tmp_path):
    """A backup written by the previous version (one .sqlite3 file and its side manifest)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the old format's SQLite file is made on SQLite")
    made = archive.backup_create()
    old = tmp_path / "stockroom-20260101T000000000000Z.sqlite3"
    old.write_bytes((made.backup.path / "database.sqlite3").read_bytes())
    Path(str(old) + ".manifest.json").write_text(json.dumps({"method": "sqlite", "tables": made.manifest["tables"]}))
    report = verify_backup(old)
    assert report.ok, report.problems
    assert any("single-file" in n for n in report.notes)


def test_unreadable_or_foreign_paths_are_refused_with_a_reason(app, tmp_path):
    junk = tmp_path / "stockroom-x.sqlite3"
    junk.write_text("not a database")
    result = invoke(app, "verify-backup", str(junk))
    assert result.exit_code == 1 and "cannot be read as SQLite" in result.output
    other = tmp_path / "notes.txt"
    other.write_text("x")
    result = invoke(app, "verify-backup", str(other))
    assert result.exit_code == 1 and "not a Stockroom backup" in result.output
    result = invoke(app, "restore", str(tmp_path / "nothing-here"))
    assert result.exit_code == 1 and "does not exist" in result.output
    for output in (result.output,):
        assert "Traceback" not in output


def test_checksums_are_the_same_on_both_engines_for_the_same_values():
    from datetime import UTC, datetime
    from decimal import Decimal

    assert canonical(Decimal("12.50")) == canonical(Decimal("12.5")) == "12.5"
    assert canonical(Decimal("100")) == "100"
    assert canonical(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02 03:04:05"
    assert canonical(True) == "1" and canonical({"b": 1, "a": 2}) == '{"a":2,"b":1}'


def test_layout_names_sort_by_time():
    from datetime import UTC, datetime

    name = layout.new_name(datetime(2026, 5, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert layout.stamp_of(name) == datetime(2026, 5, 1, 2, 3, 4, 5, tzinfo=UTC)
