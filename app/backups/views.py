"""The health page's panels: backups (with "Back up now" and "Run a drill"), storage, database.

Backups and storage are the installation's, not one organisation's: like the rest of the
health page they are shown to admins. Each panel is its own partial, loaded by the page and
re-fetched by itself (every 2 s while a run is queued or going, so it reaches the end live).
"""
from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template
from flask_login import current_user

from app.backups import health, services
from app.backups.statuses import RunKind
from app.core.auth import admin_required
from app.core.errors import DomainError
from app.core.health import database_report

bp = Blueprint("backups", __name__, url_prefix="/admin/health")
ACTIONS = {"backup": (RunKind.BACKUP, False), "drill": (RunKind.DRILL, False), "measure": (RunKind.SWEEP, True)}


def _backups_panel(message: str = "", error: str = ""):
    active = services.active_runs()
    return render_template("backups/_backups.html", newest=health.newest_backup(), runs=services.latest_runs(),
                           active=active, schedule=health.schedule_text(), message=message, error=error,
                           mb=services.mb)


@bp.get("/backups")
@admin_required
def backups_panel():
    return _backups_panel()


@bp.post("/backups/<action>")
@admin_required
def backups_run(action: str):
    if action not in ACTIONS:
        abort(404)
    kind, dry_run = ACTIONS[action]
    try:
        run = services.run_request(kind=kind, dry_run=dry_run, by=current_user.email)
    except DomainError as exc:
        return _backups_panel(error=exc.message), 409
    response = make_response(_backups_panel(message=f"{run.kind.label} queued (run {run.id})."))
    if kind == RunKind.SWEEP:  # the storage panel re-fetches itself and follows the run to its end
        response.headers["HX-Trigger"] = "storage-changed"
    return response


@bp.get("/storage")
@admin_required
def storage_panel():
    run = services.latest_finished(RunKind.SWEEP)
    measuring = any(r.kind == RunKind.SWEEP for r in services.active_runs())
    return render_template("backups/_storage.html", run=run, report=(run.report if run else None) or None,
                           measuring=measuring, mb=services.mb)


@bp.get("/database")
@admin_required
def database_panel():
    return render_template("backups/_database.html", report=database_report(), mb=services.mb)
