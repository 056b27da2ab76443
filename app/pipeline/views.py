"""Pipeline pages: the board, upload, the product page with live log, the review queue, images."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.core import storage
from app.core.auth import admin_required, role_required
from app.core.errors import DomainError
from app.core.htmx import is_htmx, render
from app.core.nav import register_card, register_nav
from app.core.tenancy import get_or_404
from app.pipeline import calibration, selectors, services, uploads
from app.pipeline.forms import ThresholdForm
from app.pipeline.identify import REVIEW_REASONS
from app.pipeline.models import BOARD_STATUSES, PHASE_LABELS, Condition, Product, ProductImage
from app.pipeline.phases import PHASES
from app.pipeline.runner import LOG_EVENT, PRODUCT_EVENT

bp = Blueprint("pipeline", __name__, url_prefix="/products")
review_bp = Blueprint("review", __name__, url_prefix="/review")
blueprints = [bp, review_bp]
# The review reasons' wording, for every template (pipeline macros show them on several pages).
bp.record_once(lambda state: state.app.jinja_env.globals.update(REVIEW_REASONS=REVIEW_REASONS))

register_nav("Products", "pipeline.board", order=20)
register_nav("Review queue", "review.queue", roles=("manager",), order=21)
register_nav("Identification", "pipeline.settings", roles=("admin",), order=25, group="admin")
register_card("pipeline", title="Product pipeline", template="pipeline/_card_summary.html",
              load=lambda org_id: {"summary": selectors.summary(org_id)}, events=(PRODUCT_EVENT,), order=20)


def _ctx(product: Product) -> dict:
    return {"product": product, "actions": services.allowed_actions(product), "phase_names": PHASES,
            "phase_labels": PHASE_LABELS}


# --- board -----------------------------------------------------------------------------------

@bp.get("/")
@login_required
def board():
    filters = {"q": request.args.get("q", ""), "status": request.args.get("status", ""),
               "mine": request.args.get("mine") == "1", "archived": request.args.get("archived") == "1"}
    data = selectors.board(current_user.organisation_id, q=filters["q"], status=filters["status"],
                           mine_id=current_user.id if filters["mine"] else None, archived=filters["archived"],
                           page=request.args.get("page", 1))
    return render("pipeline/board.html", "pipeline/_board.html", filters=filters, statuses=BOARD_STATUSES,
                  product_event=PRODUCT_EVENT, **data)


# --- upload ----------------------------------------------------------------------------------

def _upload_form(**ctx):
    return render_template("pipeline/upload.html", conditions=list(Condition), max_files=uploads.MAX_FILES,
                           formats=uploads.accepted_formats(), max_file_mb=uploads.max_file_bytes() // (1024 * 1024),
                           max_side=uploads.max_image_side(), **ctx)


@bp.get("/new")
@role_required("manager")
def upload_form():
    return _upload_form(values={}, errors=[], accepted=[])


@bp.post("/new")
@role_required("manager")
def upload():
    files = [(f.filename or "", f.stream) for f in request.files.getlist("images") if f and (f.filename or f.stream)]
    values = {k: request.form.get(k, "") for k in ("hint_name", "hint_model", "condition")}
    try:
        result = services.product_create(org_id=current_user.organisation_id, by=current_user, files=files,
                                         **values)
    except DomainError as exc:
        return _upload_form(values=values, errors=[], accepted=[], message=exc.message), exc.status
    if result.product is None:
        return _upload_form(values=values, errors=result.errors, accepted=[],
                            message="No photo could be used, so no product was created."), 422
    if result.errors:
        flash(f"{len(result.accepted)} photo(s) added; {len(result.errors)} could not be used (see below).", "warning")
        return render_template("pipeline/upload_result.html", result=result, product=result.product)
    flash(f"Product #{result.product.id} created with {len(result.accepted)} photo(s); analysis has started.",
          "success")
    return redirect(url_for("pipeline.product", product_id=result.product.id))


# --- product page ----------------------------------------------------------------------------

@bp.get("/<int:product_id>")
@login_required
def product(product_id: int):
    item = get_or_404(Product, product_id)
    return render("pipeline/product.html", "pipeline/_summary.html", log=selectors.log_lines(item.id),
                  product_event=PRODUCT_EVENT, log_event=LOG_EVENT, **_ctx(item))


@bp.get("/<int:product_id>/details")
@login_required
def product_details(product_id: int):
    item = get_or_404(Product, product_id)
    return render_template("pipeline/_details.html", product=item, product_event=PRODUCT_EVENT)


@bp.get("/<int:product_id>/log")
@login_required
def product_log(product_id: int):
    item = get_or_404(Product, product_id)
    return render_template("pipeline/_log.html", product=item, log=selectors.log_lines(item.id), log_event=LOG_EVENT)


def _control(product_id: int, fn, **kwargs):
    get_or_404(Product, product_id)
    item = fn(org_id=current_user.organisation_id, product_id=product_id, by=current_user, **kwargs)
    if is_htmx():
        return render_template("pipeline/_summary.html", product_event=PRODUCT_EVENT, **_ctx(item))
    return redirect(url_for("pipeline.product", product_id=product_id))


@bp.post("/<int:product_id>/start")
@role_required("manager")
def start(product_id: int):
    return _control(product_id, services.product_start)


@bp.post("/<int:product_id>/stop")
@role_required("manager")
def stop(product_id: int):
    return _control(product_id, services.product_stop)


@bp.post("/<int:product_id>/retry")
@role_required("manager")
def retry(product_id: int):
    return _control(product_id, services.product_retry)


@bp.post("/<int:product_id>/restart")
@role_required("manager")
def restart(product_id: int):
    return _control(product_id, services.product_restart, phase=request.form.get("phase", ""))


@bp.post("/<int:product_id>/archive")
@role_required("manager")
def archive(product_id: int):
    return _control(product_id, services.product_archive, reason=request.form.get("reason", ""))


@bp.post("/<int:product_id>/images/<int:image_id>/move")
@role_required("manager")
def image_move(product_id: int, image_id: int):
    get_or_404(Product, product_id)
    try:
        to = int(request.form.get("to", "0"))
    except ValueError:
        abort(400)
    services.image_move(org_id=current_user.organisation_id, product_id=product_id, image_id=image_id, to=to,
                        by=current_user)
    return redirect(url_for("pipeline.product", product_id=product_id))


# --- images (only through the owning organisation) --------------------------------------------

def _send(sha: str | None, mimetype: str, filename: str | None = None):
    if not sha:
        abort(404)
    return storage.send_stored(sha, mimetype, download_name=filename)


@bp.get("/images/<int:image_id>")
@login_required
def image(image_id: int):
    img = get_or_404(ProductImage, image_id)
    return _send(img.sha256, uploads.MIME.get(img.format, "application/octet-stream"), img.filename)


@bp.get("/images/<int:image_id>/thumb")
@login_required
def thumb(image_id: int):
    img = get_or_404(ProductImage, image_id)
    return _send(img.thumb_sha256, "image/jpeg")


# --- identification settings (admins) ---------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
@admin_required
def settings_page():
    org = selectors.organisation(current_user.organisation_id)
    form = ThresholdForm(data={"threshold": org.review_threshold} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.organisation_threshold_set(org_id=org.id, threshold=form.threshold.data, by=current_user)
        except DomainError as exc:
            form.threshold.errors.append(exc.message)
        else:
            flash(f"Products now skip review at a confidence of {form.threshold.data} or more.", "success")
            return redirect(url_for("pipeline.settings"))
    shown = form.threshold.data if isinstance(form.threshold.data, int) and 0 <= form.threshold.data <= 100 \
        else org.review_threshold
    right, cases = calibration.at_or_above(shown)
    return render_template("pipeline/settings.html", form=form, org=org, table=calibration.load(), shown=shown,
                           right=right, cases=cases), (422 if form.errors else 200)


# --- review queue ----------------------------------------------------------------------------

def _review_filters() -> selectors.ReviewFilters:
    uploader = request.values.get("uploader", "")
    return selectors.ReviewFilters(uploader_id=int(uploader) if uploader.isdigit() else None,
                                   band=request.values.get("band", "") if request.values.get("band") in
                                   selectors.REVIEW_BANDS else "",
                                   reason=request.values.get("reason", "") if request.values.get("reason") in
                                   REVIEW_REASONS else "")


def _review_page(filters: selectors.ReviewFilters, *, index: int = 0, product_id: int | None = None,
                 values: dict | None = None, kept: list[str] | None = None, field_error: str | None = None,
                 message: str | None = None):
    ids = selectors.review_queue(current_user.organisation_id, filters)
    if product_id in ids:
        index = ids.index(product_id)
    elif ids:
        index = index % len(ids)
    item = get_or_404(Product, ids[index]) if ids else None
    lines = services.photo_lines(item) if item else []
    return render_template("pipeline/review.html", product=item, index=index, total=len(ids),
                           conditions=list(Condition), values=values or (_review_values(item) if item else {}),
                           photo_lines=lines, kept=set(kept or []), product_event=PRODUCT_EVENT, filters=filters,
                           uploaders=selectors.review_uploaders(current_user.organisation_id),
                           bands=list(selectors.REVIEW_BANDS), field_error=field_error, message=message)


@review_bp.get("/")
@role_required("manager")
def queue():
    try:
        index = max(0, int(request.args.get("i", 0)))
    except ValueError:
        index = 0
    product = request.args.get("product", "")
    return _review_page(_review_filters(), index=index, product_id=int(product) if product.isdigit() else None)


def _review_values(item: Product) -> dict:
    return {f: getattr(item, f) or "" for f in services.REVIEW_FIELDS} | {"condition": item.condition.value}


def _after_review(filters: selectors.ReviewFilters):
    return redirect(url_for("review.queue", i=request.form.get("i", 0), **filters.as_args()))


@review_bp.post("/<int:product_id>/approve")
@role_required("manager")
def approve(product_id: int):
    item = get_or_404(Product, product_id)
    filters = _review_filters()
    values = {k: request.form.get(k, "") for k in (*services.REVIEW_FIELDS, "condition")}
    kept = request.form.getlist("kept_text")
    try:
        services.review_approve(org_id=current_user.organisation_id, product_id=item.id, by=current_user,
                                values=values, kept_text=kept)
    except DomainError as exc:
        return _review_page(filters, product_id=item.id, values=values, kept=kept, field_error=exc.field,
                            message=exc.message), exc.status
    flash(f"Product #{item.id} approved; its pipeline continues.", "success")
    return _after_review(filters)


@review_bp.post("/<int:product_id>/reject")
@role_required("manager")
def reject(product_id: int):
    item = get_or_404(Product, product_id)
    filters = _review_filters()
    try:
        services.review_reject(org_id=current_user.organisation_id, product_id=item.id, by=current_user,
                               reason=request.form.get("reason", ""))
    except DomainError as exc:
        return _review_page(filters, product_id=item.id, field_error=exc.field or "reason", message=exc.message), \
            exc.status
    flash(f"Product #{item.id} archived.", "success")
    return _after_review(filters)
