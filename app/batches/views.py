"""CSV batch pages: list and upload, format and mapping, batch progress, results, log, downloads."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.batches import exports, selectors, services
from app.batches.csv_intake import FIELDS
from app.batches.generate import DEFAULT_TEMPLATES, STYLE_LABELS, STYLES, TEMPLATE_VARIABLES
from app.batches.models import Batch, BatchRow, BatchStatus, RowStatus
from app.batches.processing import EVENT, health
from app.core import storage
from app.core.auth import manager_required
from app.core.errors import DomainError
from app.core.health import register_check
from app.core.htmx import is_htmx, render
from app.core.models import utcnow
from app.core.nav import register_card, register_nav
from app.core.tenancy import current_org_id, get_or_404
from app.extensions import db

bp = Blueprint("batches", __name__, url_prefix="/batches")

register_nav("Batches", "batches.index", roles=("manager",), order=60)
register_check("batches", health)
register_card("batches", title="CSV batches", template="batches/_card.html", load=services.running_summary,
              events=(EVENT,), roles=("manager",), order=60)

FIELD_LABELS = {"country": "Country", "product_type": "Product type", "size": "Size", "mpn": "MPN",
                "description": "Description", "title": "Title"}
ENCODINGS = (("", "Detect"), ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"), ("utf-16", "UTF-16"),
             ("cp1252", "Windows-1252"), ("latin-1", "Latin-1"))
DELIMITERS = (("", "Detect"), (",", "Comma"), (";", "Semicolon"), ("\t", "Tab"), ("|", "Pipe"))
QUOTES = (('"', 'Double quote "'), ("'", "Single quote '"), ("", "No quoting"))


def _batch() -> Batch:
    return get_or_404(Batch, request.view_args["batch_id"])


@bp.get("/")
@manager_required
def index():
    batches = selectors.batches(current_org_id(), request.args.get("page"))
    return render("batches/index.html", "batches/_list.html", batches=batches,
                  max_mb=services._max_bytes() // (1024 * 1024), max_rows=services._max_rows())


@bp.post("/upload")
@manager_required
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        return _upload_error("Choose a CSV file to upload.")
    try:
        batch = services.batch_upload(org_id=current_org_id(), by=current_user, stream=file.stream, filename=file.filename)
    except DomainError as exc:
        db.session.rollback()
        return _upload_error(exc.message)
    return redirect(url_for("batches.mapping", batch_id=batch.id))


def _upload_error(message: str):
    return render_template("batches/index.html", batches=selectors.batches(current_org_id(), 1), upload_error=message,
                           max_mb=services._max_bytes() // (1024 * 1024), max_rows=services._max_rows()), 422


def _mapping_page(batch: Batch, error: str | None = None, status: int = 200, mapping: dict | None = None):
    fmt = services.format_from(batch)
    try:
        pre = services.batch_preview(batch=batch)
    except DomainError as exc:
        pre, error = None, error or exc.message
    saved = services.mappings_for(batch.organisation_id)
    return render_template("batches/mapping.html", batch=batch, fmt=fmt, pre=pre, error=error, fields=FIELDS,
                           field_labels=FIELD_LABELS, saved=saved, mapping=mapping or batch.mapping or {},
                           encodings=ENCODINGS, delimiters=DELIMITERS, quotes=QUOTES,
                           required=services.REQUIRED_FIELDS), status


@bp.get("/<int:batch_id>/mapping")
@manager_required
def mapping(batch_id: int):
    batch = _batch()
    if batch.status != BatchStatus.UPLOADED:
        return redirect(url_for("batches.show", batch_id=batch.id))
    chosen = None
    if request.args.get("saved"):
        saved = {str(m.id): m for m in services.mappings_for(batch.organisation_id)}
        row = saved.get(request.args["saved"])
        if row is None:
            abort(404)
        chosen = dict(row.mapping)
    return _mapping_page(batch, mapping=chosen)


@bp.post("/<int:batch_id>/format")
@manager_required
def format_set(batch_id: int):
    batch = _batch()
    form = request.form
    skip = form.get("skip_lines", "").strip()
    try:
        skip_lines = int(skip) if skip else None
        if skip_lines is not None and not 0 <= skip_lines <= 1000:
            raise ValueError
    except ValueError:
        return _mapping_page(batch, "Lines to skip must be a whole number from 0 to 1000.", 422)
    try:
        services.batch_format_set(org_id=batch.organisation_id, batch_id=batch.id, encoding=form.get("encoding"),
                                  delimiter=form.get("delimiter"), quotechar=form.get("quotechar", '"'),
                                  skip_lines=skip_lines, has_header=form.get("has_header") == "1")
    except DomainError as exc:
        db.session.rollback()
        return _mapping_page(_batch(), exc.message, exc.status)
    return redirect(url_for("batches.mapping", batch_id=batch.id))


@bp.post("/<int:batch_id>/mapping")
@manager_required
def mapping_set(batch_id: int):
    batch = _batch()
    chosen = {f: request.form.get(f"field_{f}", "") for f in FIELDS}
    try:
        services.batch_mapping_set(org_id=batch.organisation_id, batch_id=batch.id, mapping=chosen, by=current_user,
                                   save_as=request.form.get("save_as"))
    except DomainError as exc:
        db.session.rollback()
        return _mapping_page(_batch(), exc.message, exc.status, mapping=chosen)
    return _mapping_page(_batch())


@bp.post("/<int:batch_id>/start")
@manager_required
def start(batch_id: int):
    batch = _batch()
    jobs = request.form.get("max_concurrent_jobs", "").strip()
    try:
        services.batch_start(org_id=batch.organisation_id, batch_id=batch.id, by=current_user,
                             max_concurrent_jobs=int(jobs) if jobs.isdigit() else None)
    except DomainError as exc:
        db.session.rollback()
        return _mapping_page(_batch(), exc.message, exc.status)
    return redirect(url_for("batches.show", batch_id=batch.id))


def _progress_context(batch: Batch) -> dict:
    return {"batch": batch, "workers": selectors.batch_workers(batch), "recent_errors": selectors.recent_problems(batch),
            "now": utcnow()}


@bp.get("/<int:batch_id>")
@manager_required
def show(batch_id: int):
    batch = _batch()
    if batch.status == BatchStatus.UPLOADED:
        return redirect(url_for("batches.mapping", batch_id=batch.id))
    return render_template("batches/show.html", **_progress_context(batch), **_rows_context(batch))


@bp.get("/<int:batch_id>/progress")
@manager_required
def progress(batch_id: int):
    return render_template("batches/_progress.html", **_progress_context(_batch()))


def _rows_context(batch: Batch) -> dict:
    rows, status = selectors.batch_rows(batch, status=request.args.get("status", ""), page=request.args.get("page"))
    return {"rows": rows, "status_filter": status,
            "row_statuses": [s.value for s in RowStatus], "styles": STYLES}


@bp.get("/<int:batch_id>/rows")
@manager_required
def rows(batch_id: int):
    batch = _batch()
    return render("batches/show.html", "batches/_rows.html", **_progress_context(batch), **_rows_context(batch))


@bp.get("/<int:batch_id>/rows/<int:row_id>/images/<style>")
@manager_required
def row_image(batch_id: int, row_id: int, style: str):
    batch = _batch()
    row = get_or_404(BatchRow, row_id)
    if row.batch_id != batch.id or style not in STYLES:
        abort(404)
    image = ((row.results or {}).get("images") or {}).get(style)
    if not image:
        abort(404)
    try:
        suffix = image.get("suffix", ".png")
        path = storage.open_path(image["sha256"], suffix if suffix in (".png", ".jpg") else ".png")
    except (FileNotFoundError, ValueError):
        abort(404)
    response = send_file(path, mimetype="image/jpeg" if path.suffix == ".jpg" else "image/png", max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int:batch_id>/log")
@manager_required
def logs(batch_id: int):
    batch = _batch()
    level, operation = request.args.get("level", ""), request.args.get("operation", "")
    entries, operations = selectors.batch_log(batch, level=level, operation=operation, page=request.args.get("page"))
    return render("batches/log.html", "batches/_log_rows.html", batch=batch, entries=entries, level=level,
                  operation=operation, operations=operations, levels=selectors.LOG_LEVELS)


@bp.get("/<int:batch_id>/results.csv")
@manager_required
def results_csv(batch_id: int):
    batch = _batch()
    return exports.download(exports.results_csv(batch), f"batch-{batch.id}-results.csv")


@bp.get("/<int:batch_id>/errors.csv")
@manager_required
def errors_csv(batch_id: int):
    batch = _batch()
    return exports.download(exports.errors_csv(batch), f"batch-{batch.id}-errors.csv")


def _action(fn, message: str):
    batch = _batch()
    try:
        result = fn(org_id=batch.organisation_id, batch_id=batch.id, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        if is_htmx():
            raise
        flash(exc.message, "error")
    else:
        flash(message.format(result=result), "success")
    return redirect(url_for("batches.show", batch_id=batch.id))


@bp.post("/<int:batch_id>/cancel")
@manager_required
def cancel(batch_id: int):
    return _action(services.batch_cancel, "Batch cancelled. Rows already being worked on finish.")


@bp.post("/<int:batch_id>/discard")
@manager_required
def discard(batch_id: int):
    batch = _batch()
    try:
        filename = services.batch_discard(org_id=batch.organisation_id, batch_id=batch.id, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("batches.show", batch_id=batch.id))
    flash(f"Discarded {filename}; nothing was processed.", "success")
    return redirect(url_for("batches.index"))


@bp.post("/<int:batch_id>/resume")
@manager_required
def resume(batch_id: int):
    return _action(services.batch_resume, "Batch queued again.")


@bp.post("/<int:batch_id>/retry")
@manager_required
def retry(batch_id: int):
    return _action(services.batch_retry_failed, "{result} failed row(s) queued again.")


@bp.post("/mappings/<int:mapping_id>/delete")
@manager_required
def mapping_delete(mapping_id: int):
    services.mapping_delete(org_id=current_org_id(), mapping_id=mapping_id)
    flash("Saved mapping deleted.", "success")
    return redirect(request.referrer or url_for("batches.index"))


@bp.route("/prompts", methods=["GET", "POST"])
@manager_required
def prompts():
    org_id = current_org_id()
    errors: dict[str, str] = {}
    if request.method == "POST":
        style = request.form.get("style", "")
        try:
            services.template_save(org_id=org_id, style=style, source=request.form.get("template", ""), by=current_user)
            flash(f"Prompt template '{STYLE_LABELS.get(style, style)}' saved.", "success")
            return redirect(url_for("batches.prompts"))
        except DomainError as exc:
            db.session.rollback()
            errors[style] = exc.message
    current = services.templates_for(org_id)
    if errors:
        current = {**current, **{s: (request.form.get("template", ""), current[s][1]) for s in errors}}
    return render_template("batches/prompts.html", current=current, styles=STYLES, labels=STYLE_LABELS,
                           defaults=DEFAULT_TEMPLATES, variables=TEMPLATE_VARIABLES, errors=errors), (422 if errors else 200)



