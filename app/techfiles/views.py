"""Tech file pages: gallery, file history, compare, collections with live progress, PDF, credits, statistics."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from app.core.auth import role_required
from app.core.errors import DomainError
from app.core.htmx import render
from app.core.nav import register_card, register_nav
from app.core.storage import open_path
from app.core.tenancy import current_org_id, get_or_404
from app.pipeline.models import Product
from app.techfiles import collections, selectors, services
from app.techfiles.forms import (
    AnnotateForm,
    CollectionStartForm,
    ReasonForm,
    RegenerateForm,
    RenameForm,
    ScaleReferenceForm,
)
from app.techfiles.models import Collection, CollectionKind, FileType, TechFile
from app.techfiles.share_views import bp as share_admin_bp
from app.techfiles.share_views import public as share_public_bp

bp = Blueprint("techfiles", __name__, url_prefix="/techfiles")
blueprints = [bp, share_admin_bp, share_public_bp]
register_nav("Tech files", "techfiles.index", order=45)
register_card("techfiles", title="Tech files", template="techfiles/_card.html", load=selectors.dashboard_summary,
              events=(collections.PROGRESS_EVENT,), order=60)


@bp.get("/")
@login_required
def index():
    org = current_org_id()
    return render_template("techfiles/index.html", products=selectors.products_with_files(org),
                           choices=selectors.products_for_select(org), collections=selectors.collections_for(org),
                           kinds=list(CollectionKind))


def _product_page(product: Product, form: CollectionStartForm | None = None, error: str | None = None,
                  status: int = 200):
    org = current_org_id()
    revs = selectors.revisions(org, product.id)
    revision = request.args.get("revision") or (revs[-1] if revs else "1")
    if form is None:
        form = CollectionStartForm(formdata=None, data={"revision": revision, "kind": "tech_pack"})
    return render("techfiles/product.html", "techfiles/_gallery.html", product=product, revision=revision,
                  revisions=revs, groups=selectors.gallery(org, product.id, revision),
                  counts=selectors.version_counts(org, product.id),
                  credits=selectors.product_credits(org, product.id),
                  archived=selectors.archived_slots(org, product.id, revision),
                  collections=selectors.collections_for(org, product.id, 10), form=form, error=error), status


@bp.get("/products/<int:product_id>")
@login_required
def product(product_id: int):
    return _product_page(get_or_404(Product, product_id))


@bp.post("/products/<int:product_id>/collections")
@role_required("manager")
def collection_start(product_id: int):
    product = get_or_404(Product, product_id)
    form = CollectionStartForm()
    if not form.validate_on_submit():
        return _product_page(product, form, "Check the fields marked below.", 422)
    try:
        c = collections.collection_start(org_id=current_org_id(), product_id=product.id, kind=form.kind.data,
                                         revision=form.revision.data, name=form.name.data,
                                         sections=form.sections.data, force=form.force.data, by=current_user)
    except DomainError as exc:
        if exc.field and hasattr(form, exc.field):
            getattr(form, exc.field).errors = [exc.message]
        return _product_page(product, form, exc.message, exc.status)
    return redirect(url_for("techfiles.collection", collection_id=c.id), 303)


def _file_page(f: TechFile, status: int = 200, **forms):
    forms.setdefault("rename_form", RenameForm(formdata=None, data={"label": f.label or ""}))
    forms.setdefault("scale_form", ScaleReferenceForm(formdata=None))
    forms.setdefault("annotate_form", AnnotateForm(formdata=None))
    reference = selectors.scale_reference_for(f.organisation_id, f.source_image_id) if f.source_image_id else None
    return render_template("techfiles/file.html", f=f, versions=selectors.slot_versions(f),
                           history=selectors.slot_history(f), current=selectors.current_of(f),
                           reference=reference, **forms), status


@bp.get("/files/<int:file_id>")
@login_required
def file(file_id: int):
    return _file_page(get_or_404(TechFile, file_id))


@bp.get("/files/<int:file_id>/image")
@login_required
def image(file_id: int):
    f = get_or_404(TechFile, file_id)
    return send_stored(f, request.args.get("size"))


def send_stored(f: TechFile, size: str | None = None):
    """The file's stored bytes (a smaller rendition of a base view when asked), or 404."""
    sha, mime = f.sha256, f.mime or "application/octet-stream"
    if size and (f.meta or {}).get("renditions", {}).get(size):
        sha, mime = f.meta["renditions"][size], "image/jpeg"
    if sha is None:
        abort(404)
    try:
        path = open_path(sha)
    except FileNotFoundError:
        abort(404, "The file is missing from storage.")
    name = f"tech-pack-{f.product_id}-rev-{f.revision}-v{f.version}.pdf" if f.is_pdf else None
    response = send_file(path, mimetype=mime, max_age=3600, etag=sha, download_name=name, as_attachment=f.is_pdf)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _action(file_id: int, fn, ok: str, form_class=ReasonForm, **kwargs):
    f = get_or_404(TechFile, file_id)
    form = form_class()
    if not form.validate_on_submit():
        flash("Check the reason: up to 500 characters.", "error")
        return redirect(url_for("techfiles.file", file_id=f.id), 303)
    extra = {k: v(form) if callable(v) else v for k, v in kwargs.items()}
    try:
        row = fn(org_id=current_org_id(), file_id=f.id, by=current_user, reason=form.reason.data or None, **extra)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("techfiles.file", file_id=f.id), 303)
    flash(ok.format(v=row.version_label), "success")
    return redirect(url_for("techfiles.file", file_id=row.id), 303)


@bp.post("/files/<int:file_id>/regenerate")
@role_required("manager")
def regenerate(file_id: int):
    return _action(file_id, services.file_regenerate, "Regenerated: {v} is now the latest.", RegenerateForm,
                   params=lambda form: form.params())


@bp.post("/files/<int:file_id>/replace")
@role_required("manager")
def replace(file_id: int):
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        get_or_404(TechFile, file_id)
        flash("Choose an image file to upload.", "error")
        return redirect(url_for("techfiles.file", file_id=file_id), 303)
    return _action(file_id, services.file_replace, "Replacement uploaded as {v}.", data=upload.read(),
                   filename=upload.filename)


@bp.post("/files/<int:file_id>/rollback")
@role_required("manager")
def rollback(file_id: int):
    return _action(file_id, services.file_rollback, "Rolled back: {v} is the latest and equals the chosen version.")


@bp.post("/files/<int:file_id>/archive")
@role_required("manager")
def archive(file_id: int):
    return _action(file_id, services.file_archive, "{v} archived.")


@bp.post("/files/<int:file_id>/annotate")
@role_required("manager")
def annotate(file_id: int):
    return _action(file_id, services.sketch_annotate, "Callouts and measurements drawn as {v}.", AnnotateForm,
                   annotations=lambda form: form.annotations.data or "")


@bp.post("/files/<int:file_id>/rename")
@role_required("manager")
def rename(file_id: int):
    f = get_or_404(TechFile, file_id)
    form = RenameForm()
    if not form.validate_on_submit():
        return _file_page(f, 422, rename_form=form)
    try:
        services.file_rename(org_id=current_org_id(), file_id=f.id, label=form.label.data, by=current_user)
    except DomainError as exc:
        form.label.errors = [exc.message]
        return _file_page(f, exc.status, rename_form=form)
    flash("Name saved; later versions keep it.", "success")
    return redirect(url_for("techfiles.file", file_id=f.id), 303)


@bp.post("/files/<int:file_id>/scale")
@role_required("manager")
def scale(file_id: int):
    f = get_or_404(TechFile, file_id)
    form = ScaleReferenceForm()
    if not form.validate_on_submit():
        return _file_page(f, 422, scale_form=form)
    try:
        rows = services.scale_reference_set(org_id=current_org_id(), file_id=f.id, points=form.points(),
                                            length=form.length.data, unit=form.unit.data, label=form.label.data,
                                            by=current_user)
    except DomainError as exc:
        getattr(form, exc.field if exc.field and hasattr(form, exc.field) else "length").errors = [exc.message]
        return _file_page(f, exc.status, scale_form=form)
    flash(f"Reference length saved; {len(rows)} sketch(es) measured from it.", "success")
    return redirect(url_for("techfiles.file", file_id=f.id), 303)


@bp.get("/files/<int:file_id>/compare")
@login_required
def compare(file_id: int):
    f = get_or_404(TechFile, file_id)
    versions = selectors.slot_versions(f)
    other = request.args.get("with", type=int)
    if other is None:
        other = next((v.id for v in versions if v.id != f.id), f.id)
    get_or_404(TechFile, other)
    comparison = selectors.file_compare(org_id=current_org_id(), a_id=f.id, b_id=other)
    return render_template("techfiles/compare.html", f=f, c=comparison, versions=versions)


def _collection_context(c: Collection) -> dict:
    return {"c": c, "sections": selectors.collection_sections(c), "credits": selectors.collection_credits(c.id),
            "totals": selectors.collection_totals(c)}


@bp.get("/collections/<int:collection_id>")
@login_required
def collection(collection_id: int):
    c = get_or_404(Collection, collection_id)
    return render("techfiles/collection.html", "techfiles/_collection_progress.html", **_collection_context(c))


@bp.get("/collections/<int:collection_id>/progress")
@login_required
def collection_progress(collection_id: int):
    c = get_or_404(Collection, collection_id)
    return render_template("techfiles/_collection_progress.html", **_collection_context(c))


@bp.post("/collections/<int:collection_id>/retry")
@role_required("manager")
def collection_retry(collection_id: int):
    c = get_or_404(Collection, collection_id)
    try:
        collections.collection_retry(org_id=current_org_id(), collection_id=c.id, by=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("techfiles.collection", collection_id=c.id), 303)


@bp.get("/collections/<int:collection_id>/pdf")
@login_required
def collection_pdf(collection_id: int):
    c = get_or_404(Collection, collection_id)
    from app.techfiles import pdf  # fpdf2 only where a pack is printed

    data, _printed = pdf.collection_pdf(c)
    name = f"tech-pack-{c.product_id}-rev-{c.revision}-{c.id}.pdf".replace(" ", "_")
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/credits", methods=["GET", "POST"])
@login_required
def credits():
    org = current_org_id()
    status = 200
    if request.method == "POST":
        if not current_user.has_role("manager"):
            abort(403)
        try:
            services.credit_cost_set(org_id=org, file_type=request.form.get("file_type", ""),
                                     credits=request.form.get("credits", ""), by=current_user)
        except DomainError as exc:
            flash(exc.message, "error")
            status = 422
        else:
            flash("Cost saved; it applies to files generated from now on.", "success")
            return redirect(url_for("techfiles.credits"), 303)
    return render_template("techfiles/credits.html", report=selectors.credits_report(org),
                           costs=selectors.credit_costs(org), types=list(FileType)), status


@bp.get("/stats")
@login_required
def stats():
    return render_template("techfiles/stats.html", report=selectors.stats_report(current_org_id()))
