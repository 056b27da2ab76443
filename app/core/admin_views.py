"""Admin pages: users, jobs and workers, health, audit log; and the public /healthz."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.core import jobs, selectors, users
from app.core.auth import admin_required
from app.core.errors import DomainError
from app.core.forms import UserCreateForm, UserRoleForm
from app.core.health import check_all
from app.core.htmx import render
from app.core.models import Role, User
from app.core.nav import register_nav
from app.core.tenancy import get_or_404

bp = Blueprint("admin", __name__, url_prefix="/admin")
health_bp = Blueprint("health", __name__)
blueprints = [bp, health_bp]

register_nav("Users", "admin.users", roles=("admin",), order=10, group="admin")
register_nav("Jobs and workers", "admin.jobs", roles=("admin",), order=20, group="admin")
register_nav("Health", "admin.health", roles=("admin",), order=30, group="admin")
register_nav("Audit log", "admin.audit", roles=("admin",), order=40, group="admin")


@health_bp.get("/healthz")
def healthz():
    """Machine-readable health: 200 when the database and Redis answer, 503 otherwise.

    A load balancer needs only up or down; versions, disk space and counts are for admins."""
    if current_user.is_authenticated and current_user.has_role(Role.ADMIN):
        report = check_all()
        return jsonify(report), (503 if report["status"] == "down" else 200)
    up = check_all(required_only=True)["status"] != "down"
    return jsonify(status="up" if up else "down"), (200 if up else 503)


@bp.route("/users", methods=["GET", "POST"], endpoint="users")
@admin_required
def users_page():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = users.user_create(org_id=current_user.organisation_id, email=form.email.data,
                                     password=form.password.data, role=form.role.data, name=form.name.data,
                                     by=current_user)
        except DomainError as exc:
            getattr(form, exc.field or "email").errors.append(exc.message)
        else:
            flash(f"Added {user.email} as {user.role.label}.", "success")
            return redirect(url_for("admin.users"))
    rows = selectors.users(current_user.organisation_id)
    return render_template("core/users.html", users=rows, form=form, role_form=UserRoleForm()), \
        (422 if form.errors else 200)



@bp.post("/users/<int:user_id>/role")
@admin_required
def user_role(user_id: int):
    user = get_or_404(User, user_id)
    form = UserRoleForm()
    if form.validate_on_submit():
        users.user_change_role(org_id=current_user.organisation_id, user_id=user.id, role=form.role.data,
                               by=current_user)
        flash(f"{user.email} is now {user.role.label}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@admin_required
def user_active(user_id: int):
    user = get_or_404(User, user_id)
    active = request.form.get("active") == "1"
    users.user_set_active(org_id=current_user.organisation_id, user_id=user.id, active=active, by=current_user)
    flash(f"{user.email} is {'active again' if active else 'deactivated'}.", "success")
    return redirect(url_for("admin.users"))


@bp.get("/jobs", endpoint="jobs")
@admin_required
def jobs_page():
    org_id = current_user.organisation_id
    return render("core/jobs.html", "core/_jobs.html", queues=jobs.queue_overview(),
                  workers=jobs.workers_overview(org_id), failed=jobs.failed_jobs(org_id))



@bp.post("/jobs/<job_id>/retry")
@admin_required
def job_retry(job_id: str):
    jobs.retry_failed_job(job_id=job_id, org_id=current_user.organisation_id)
    flash("The job is back on its queue.", "success")
    return redirect(url_for("admin.jobs"))


@bp.get("/health")
@admin_required
def health():
    return render_template("core/health.html", report=check_all())


@bp.get("/audit")
@admin_required
def audit():
    page = selectors.audit_page(current_user.organisation_id, object_type=request.args.get("object_type", ""),
                                page=request.args.get("page", 1))
    return render("core/audit.html", "core/_audit_rows.html", page=page)

