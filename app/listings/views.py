"""Pages for price lists, listings and their exports (Shopify CSV, CSV, JSON)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from app.core.auth import role_required
from app.core.errors import InvalidInput
from app.core.htmx import render
from app.core.nav import register_nav
from app.core.tenancy import get_or_404
from app.extensions import db
from app.listings import exports, selectors
from app.listings.forms import PriceListForm
from app.listings.models import Listing, PriceList
from app.listings.price_lists import MAX_FILE_BYTES, PriceListRejected, price_list_delete, price_list_import
from app.pipeline.models import Product

bp = Blueprint("listings", __name__)

register_nav("Listings", "listings.index", roles=("manager",), order=40)
register_nav("Price lists", "listings.price_lists", roles=("manager",), order=45)

# The pipeline's authorised image route, tried in order (endpoint, URL argument).
IMAGE_ENDPOINTS = (("pipeline.image", "image_id"), ("pipeline.image_original", "image_id"))


def image_url(image_id: int) -> str | None:
    """Absolute URL of a product image on the authorised image route (None if it is not installed)."""
    for endpoint, arg in IMAGE_ENDPOINTS:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, _external=True, **{arg: image_id})
            except BuildError:
                continue
    return None


# --- price lists --------------------------------------------------------------------------------


@bp.route("/price-lists", methods=["GET", "POST"])
@role_required("manager")
def price_lists():
    form, errors, status = PriceListForm(), None, 200
    if form.validate_on_submit():
        upload = form.file.data
        if not upload or not getattr(upload, "filename", ""):
            form.file.errors.append("Choose a CSV file to upload.")
        else:
            try:
                price_list = price_list_import(
                    org_id=current_user.organisation_id, by=current_user, filename=upload.filename,
                    data=upload.read(MAX_FILE_BYTES + 1), currency=form.currency.data, name=form.name.data,
                    skip_bad_rows=form.skip_bad_rows.data)
            except PriceListRejected as exc:
                db.session.rollback()
                errors = exc
            except InvalidInput as exc:
                db.session.rollback()
                getattr(form, exc.field or "file").errors.append(exc.message)
            else:
                skipped = f", {price_list.skipped_rows} bad row(s) skipped" if price_list.skipped_rows else ""
                flash(f"Saved {price_list.row_count} row(s) of “{price_list.name}”{skipped}.", "success")
                return redirect(url_for("listings.price_list", price_list_id=price_list.id))
    if form.errors or errors:
        status = 422
    lists = selectors.price_lists(current_user.organisation_id)
    return render("listings/price_lists.html", None, form=form, lists=lists, rejected=errors), status


@bp.get("/price-lists/<int:price_list_id>")
@role_required("manager")
def price_list(price_list_id: int):
    price_list = get_or_404(PriceList, price_list_id)
    q = (request.args.get("q") or "").strip()
    page = selectors.price_list_entries(current_user.organisation_id, price_list, q=q, page=request.args.get("page", 1))
    return render("listings/price_list.html", "listings/_entries.html", price_list=price_list, page=page, q=q)


@bp.post("/price-lists/<int:price_list_id>/delete")
@role_required("manager")
def price_list_remove(price_list_id: int):
    price_list = get_or_404(PriceList, price_list_id)
    name = price_list.name
    price_list_delete(org_id=current_user.organisation_id, price_list_id=price_list.id, by=current_user)
    flash(f"Deleted the price list “{name}”.", "success")
    return redirect(url_for("listings.price_lists"))


# --- listings -----------------------------------------------------------------------------------


@bp.get("/listings")
@role_required("manager")
def index(export_error: str | None = None, selected: frozenset = frozenset()):
    status, q = request.args.get("status", ""), (request.args.get("q") or "").strip()
    page, listings = selectors.products_with_listings(current_user.organisation_id, status=status, q=q,
                                                      page=request.args.get("page", 1))
    return render("listings/index.html", "listings/_rows.html", page=page, listings=listings, status=status, q=q,
                  formats=exports.FORMATS, export_error=export_error, selected=selected)


@bp.get("/listings/export")
@role_required("manager")
def export():
    raw = request.args.getlist("ids")
    ids = [int(v) for v in raw if v.isdigit()]
    try:
        if len(ids) != len(raw):
            raise InvalidInput("The selection holds something that is not a product number.")
        listings = exports.listings_for_export(org_id=current_user.organisation_id, product_ids=ids)
    except InvalidInput as exc:  # answered on the list itself, with the ticks kept
        return index(export_error=exc.message, selected=frozenset(ids)), exc.status
    return _download(listings, request.args.get("format", "shopify"), "listings")


@bp.get("/listings/products/<int:product_id>")
@role_required("manager")
def listing(product_id: int):
    product = get_or_404(Product, product_id)
    row = selectors.listing_of(current_user.organisation_id, product.id)
    images = {image.id: image for image in product.images}
    return render("listings/listing.html", None, product=product, listing=row, images=images,
                  image_url=image_url, formats=exports.FORMATS)


@bp.get("/listings/products/<int:product_id>/export")
@role_required("manager")
def product_export(product_id: int):
    product = get_or_404(Product, product_id)
    listings = exports.listings_for_export(org_id=current_user.organisation_id, product_ids=[product.id])
    return _download(listings, request.args.get("format", "shopify"), listings[0].slug or f"product-{product.id}")


def _download(listings: list[Listing], fmt: str, stem: str) -> Response:
    result = exports.render_export(listings, fmt, image_url, stem=stem)
    response = Response(result.body, mimetype=result.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
