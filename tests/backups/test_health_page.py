"""The health page: newest verified backup and its age, runs, storage per capability, database health."""
from __future__ import annotations

from app.backups import archive
from app.backups.models import BackupRun
from app.backups.statuses import RunStatus
from app.extensions import db


def test_the_page_loads_each_panel_and_only_admins_see_them(app, admin_client, manager_client):
    page = admin_client.get("/admin/health").get_data(as_text=True)
    for url in ("/admin/health/backups", "/admin/health/storage", "/admin/health/database"):
        assert f'hx-get="{url}"' in page
        assert manager_client.get(url).status_code == 403
    assert manager_client.post("/admin/health/backups/backup").status_code == 403
    assert admin_client.post("/admin/health/backups/nonsense").status_code == 404


def test_back_up_now_reaches_the_panel_as_the_newest_verified_backup(app, admin_client, some_rows, run_jobs):
    panel = admin_client.get("/admin/health/backups").get_data(as_text=True)
    assert "No verified backup yet" in panel
    queued = admin_client.htmx("post", "/admin/health/backups/backup").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in queued and "disabled" in queued  # polls itself while the run is active
    run_jobs()
    panel = admin_client.get("/admin/health/backups").get_data(as_text=True)
    run = db.session.query(BackupRun).one()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.report["name"] in panel and "min ago" in panel and "every 2s" not in panel


def test_the_health_check_warns_about_a_failed_scheduled_run(app, org):
    archive.backup_create()
    db.session.add(BackupRun(kind="backup", status=RunStatus.FAILED, error="disk full"))
    db.session.commit()
    from app.core.health import check_all

    component = check_all()["components"]["backups"]
    assert component["status"] == "warning" and "disk full" in component["detail"]


def test_database_health_shows_size_and_largest_tables(app, admin_client, some_rows):
    panel = admin_client.get("/admin/health/database").get_data(as_text=True)
    assert "Largest tables" in panel and "inventory_items" in panel or "users" in panel
    if db.engine.dialect.name == "postgresql":
        assert "PostgreSQL" in panel and ("Slowest queries" in panel or "pg_stat_statements" in panel)
    else:
        assert "SQLite" in panel and "PostgreSQL (pg_stat_statements) only" in panel
