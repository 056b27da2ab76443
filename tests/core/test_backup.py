"""Backups: backup, restore into an empty database, verify equal; refusals; the health check."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.core import backup
from app.core.health import check_all
from app.extensions import db
from app.inventory.stock import stock_reserve
from tests.inventory.factories import make_item


@pytest.fixture
def some_rows(org, manager):
    item = make_item(org, sku="ABC-1", title="Żółty łańcuszek 'quoted' \"x\"", on_hand=7, unit_cost="2.91",
                     currency="USD", attributes={"color": "Gold", "size": "12cm"}, by=manager)
    stock_reserve(org_id=org.id, lines=[(item.id, 2)], reference="SO-1", by=manager)
    db.session.commit()
    return item


@pytest.fixture
def empty_database(infra, tmp_path):
    """A database with nothing in it (no tables) of the same kind as the test's."""
    if infra.kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    server = make_url(infra.url)
    name = f"stockroom_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _restore_and_verify(app_config, url: str, path: Path):
    target = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url})
    runner = target.test_cli_runner()
    with target.app_context():  # commands use the current app when there is one
        restored = runner.invoke(args=["restore", str(path)])
        verified = runner.invoke(args=["verify-backup", str(path)])
        db.session.remove()
        db.engine.dispose()
    return restored, verified


@pytest.mark.parametrize("as_json", [False, True], ids=["native", "json"])
def test_backup_then_restore_into_an_empty_database_reproduces_every_row(app, app_config, some_rows, empty_database,
                                                                         as_json):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup"] + (["--json"] if as_json else []))
    assert result.exit_code == 0, result.output
    path = Path(result.output.splitlines()[0])
    assert path.exists() and path.parent == Path(app.config["BACKUP_DIR"]) and "method:" in result.output
    assert Path(str(path) + ".manifest.json").exists()
    if as_json:
        expected = "json"
    elif db.engine.dialect.name == "sqlite":
        expected = "sqlite"
    else:
        expected = "pg_dump" if backup.pg_dump_problem(db.engine) is None else "json"
    assert f"method: {expected} " in result.output
    restored, verified = _restore_and_verify(app_config, empty_database, path)
    assert restored.exit_code == 0, restored.output
    assert verified.exit_code == 0, verified.output
    assert "the backup matches" in verified.output
    assert "inventory_items" in verified.output and "stock_movements" in verified.output
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT on_hand, reserved, title FROM inventory_items")).one() == \
            (7, 2, some_rows.title)
    engine.dispose()


def test_verify_sees_a_difference_and_prints_without_live(app, some_rows):
    made = backup.backup_create()
    rows = backup.verify(made.path)
    assert all(r["equal"] for r in rows)
    db.session.execute(text("UPDATE inventory_items SET title = 'changed'"))
    db.session.commit()
    changed = {r["table"]: r["equal"] for r in backup.verify(made.path)}
    assert changed["inventory_items"] is False and changed["users"] is True
    result = app.test_cli_runner().invoke(args=["verify-backup", str(made.path)])
    assert result.exit_code == 1 and "DIFFERENT" in result.output
    printed = app.test_cli_runner().invoke(args=["verify-backup", "--no-live", str(made.path)])
    assert printed.exit_code == 0 and "inventory_items" in printed.output


def test_restore_refuses_a_database_with_data(app, some_rows):
    made = backup.backup_create()
    result = app.test_cli_runner().invoke(args=["restore", str(made.path)])
    assert result.exit_code != 0 and "has data" in result.output


def test_unreadable_files_are_refused_with_a_reason(app, tmp_path):
    junk = tmp_path / "stockroom-x.sqlite3"
    junk.write_text("not a database")
    result = app.test_cli_runner().invoke(args=["verify-backup", str(junk)])
    assert result.exit_code != 0 and "cannot be read" in result.output
    other = tmp_path / "notes.txt"
    other.write_text("x")
    result = app.test_cli_runner().invoke(args=["verify-backup", str(other)])
    assert result.exit_code != 0 and "not a Stockroom backup" in result.output


def test_health_shows_the_last_backup_and_its_age(app, org):
    assert check_all()["components"]["backups"]["detail"].startswith("no backup yet")
    made = backup.backup_create()
    component = check_all()["components"]["backups"]
    assert component["status"] == "ok" and made.path.name in component["detail"] and "ago" in component["detail"]


def test_checksums_are_the_same_on_both_engines_for_the_same_values():
    from datetime import UTC, datetime
    from decimal import Decimal

    assert backup.canonical(Decimal("12.50")) == backup.canonical(Decimal("12.5")) == "12.5"
    assert backup.canonical(Decimal("100")) == "100"
    assert backup.canonical(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02 03:04:05"
    assert backup.canonical(True) == "1" and backup.canonical({"b": 1, "a": 2}) == '{"a":2,"b":1}'
