"""Design pages: a design's owner, pictures, versions and "order this design" (on the orders blueprint)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core import storage
from app.core.errors import DomainError
from app.orders import designs as design_services
from app.orders import selectors
from app.orders.forms import DesignForm
from app.orders.views import _org, bp, staff_required


def _design_choices(form: DesignForm) -> None:
    products = selectors.item_search(_org(), "", limit=500)
    charms = selectors.charm_choices(_org())
    form.product_item_id.choices = [("", "— choose —")] + [(str(i.id), f"{i.sku} · {i.title}") for i in products]
    form.component_item_ids.choices = [(str(i.id), f"{i.sku} · {i.title}") for i in charms]


def _design_fields(form: DesignForm) -> dict:
    return {"name": form.name.data, "product_item_id": form.product_item_id.data,
            "component_item_ids": form.component_item_ids.data or [], "notes": form.notes.data or "",
            "options": {"chain_length_cm": form.chain_length_cm.data, "engraving": form.engraving.data},
            "public": form.public.data}


def _uploads() -> list:
    return [(f.filename, f.stream) for f in request.files.getlist("images") if f and f.filename]


def _field_error(form: DesignForm, exc: DomainError) -> None:
    target = getattr(form, exc.field or "name", None) or form.name
    target.errors = [*target.errors, exc.message]


@bp.route("/designs", methods=["GET", "POST"])
@staff_required
def designs():
    form = DesignForm()
    _design_choices(form)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                design = design_services.design_create(org_id=_org(), by=current_user, images=_uploads(),
                                                       **_design_fields(form))
            except DomainError as exc:
                _field_error(form, exc)
                status = exc.status
            else:
                flash(f"Design {design.name!r} saved.", "success")
                return redirect(url_for("orders.design", design_id=design.id))
    rows = selectors.visible_designs(_org(), current_user)
    items = selectors.items_by_id(_org(), {i for d in rows for i in [d.product_item_id, *d.component_item_ids]})
    return render_template("orders/designs.html", form=form, designs=rows, items=items), status


def _design_form(design) -> DesignForm:
    options = design.options or {}
    return DesignForm(formdata=None, data={
        "version": design.version, "name": design.name, "product_item_id": str(design.product_item_id),
        "component_item_ids": [str(i) for i in design.component_item_ids or []], "notes": design.notes,
        "chain_length_cm": options.get("chain_length_cm"), "engraving": options.get("engraving") or "",
        "public": design.public})


def _design_page(design, form: DesignForm, status: int = 200, error: str | None = None):
    items = selectors.items_by_id(_org(), [design.product_item_id, *design.component_item_ids])
    return render_template("orders/design.html", design=design, form=form, items=items, error=error,
                           can_edit=design_services.can_edit(design, current_user)), status


@bp.route("/designs/<int:design_id>", methods=["GET", "POST"])
@staff_required
def design(design_id: int):
    """A design: its pictures, its content (editable by its owner or a manager) and its versions."""
    design = design_services.design_load(_org(), design_id, current_user)
    if request.method == "GET":
        form = _design_form(design)
        _design_choices(form)
        return _design_page(design, form)
    form = DesignForm()
    _design_choices(form)
    if not form.validate_on_submit():
        return _design_page(design, form, 422, "Check the fields marked below.")
    try:
        design_services.design_update(org_id=_org(), design_id=design.id, by=current_user,
                                      version=form.version.data or None, **_design_fields(form))
    except DomainError as exc:
        _field_error(form, exc)
        return _design_page(design_services.design_load(_org(), design_id, current_user), form, exc.status,
                            exc.message)
    flash("Design saved; the previous content is kept as a version.", "success")
    return redirect(url_for("orders.design", design_id=design_id))


@bp.post("/designs/<int:design_id>/images")
@staff_required
def design_images(design_id: int):
    design = design_services.design_load(_org(), design_id, current_user)
    try:
        design_services.design_images_add(org_id=_org(), design_id=design.id, files=_uploads(), by=current_user,
                                          version=request.form.get("version") or None)
    except DomainError as exc:
        form = _design_form(design_services.design_load(_org(), design_id, current_user))
        _design_choices(form)
        form.images.errors = [exc.message]
        return _design_page(design_services.design_load(_org(), design_id, current_user), form, exc.status,
                            exc.message)
    flash("Pictures added.", "success")
    return redirect(url_for("orders.design", design_id=design_id))


@bp.post("/designs/<int:design_id>/images/<int:image_id>/delete")
@staff_required
def design_image_delete(design_id: int, image_id: int):
    design_services.design_image_remove(org_id=_org(), design_id=design_id, image_id=image_id, by=current_user)
    flash("Picture removed.", "success")
    return redirect(url_for("orders.design", design_id=design_id))


@bp.get("/designs/<int:design_id>/images/<int:image_id>")
@staff_required
def design_image(design_id: int, image_id: int):
    """A design's picture (or its thumbnail), for people who may see the design."""
    design = design_services.design_load(_org(), design_id, current_user)
    image = next((i for i in design.images if i.id == image_id), None) or abort(404)
    thumb = request.args.get("size") == "thumb"
    return storage.send_stored(image.thumb_sha256 if thumb else image.sha256,
                               "image/jpeg" if thumb else f"image/{image.format.lower()}")


@bp.post("/designs/<int:design_id>/delete")
@staff_required
def design_delete(design_id: int):
    design = design_services.design_load(_org(), design_id, current_user)
    name = design.name
    design_services.design_delete(org_id=_org(), design_id=design.id, by=current_user)
    flash(f"Design {name!r} deleted.", "success")
    return redirect(url_for("orders.designs"))
