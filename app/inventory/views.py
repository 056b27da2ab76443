"""Inventory pages: list, item, stock adjustment, prices, category rules, reports (supplier imports: import_views)."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core import storage
from app.core.auth import role_required
from app.core.errors import DomainError
from app.core.htmx import is_htmx, render
from app.core.nav import register_card, register_nav
from app.core.pagination import paginate
from app.core.tenancy import get_or_404
from app.extensions import db
from app.inventory import holds, item_details, pricing, reports, rules, selectors, services, stock
from app.inventory.category_rules import assign_category
from app.inventory.models import CategoryRule, Item, ItemStatus

bp = Blueprint("inventory", __name__, url_prefix="/inventory")
view_roles = role_required("manager", "staff")
manage = role_required("manager")
PER_PAGE = 50
PENDING = "inventory_pending_upload"

register_nav("Inventory", "inventory.index", order=20)


def _org() -> int:
    return current_user.organisation_id


def _items_card(org_id: int) -> dict:
    low, _ = selectors.low_stock_items(org_id, limit=0)
    return {"count": selectors.item_count(org_id), "low": low}


def _low_card(org_id: int) -> dict:
    total, rows = selectors.low_stock_items(org_id, limit=8)
    return {"total": total, "items": rows}


register_card("inventory-items", title="Inventory", template="inventory/_card_items.html", load=_items_card,
              events=(stock.EVENT,), order=20)
register_card("inventory-low-stock", title="Low stock", template="inventory/_card_low_stock.html",
              load=_low_card, events=(stock.EVENT,), order=21)


# --- list and items -----------------------------------------------------------------------------

@bp.get("/")
@view_roles
def index():
    filters = selectors.ItemFilters.from_args(request.args)
    page = paginate(selectors.item_list_query(_org(), filters), request.args.get("page", 1), per_page=PER_PAGE)
    return render("inventory/index.html", "inventory/_results.html", page=page, filters=filters,
                  categories=services.categories_all(_org()), statuses=list(ItemStatus))


@bp.get("/items/<int:item_id>/row")
@view_roles
def item_row(item_id: int):
    return render_template("inventory/_row.html", item=get_or_404(Item, item_id))


@bp.get("/items/<int:item_id>/stock")
@view_roles
def item_stock(item_id: int):
    return render_template("inventory/_item_stock.html", item=get_or_404(Item, item_id))


def _int_field(name: str, label: str, default: int | None = None) -> int:
    raw = (request.form.get(name) or "").strip()
    if not raw and default is not None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise DomainError(f"{label} must be a whole number (got {raw!r}).", field=name) from None


@bp.post("/items/<int:item_id>/adjust")
@manage
def adjust(item_id: int):
    item = get_or_404(Item, item_id)
    delta = _int_field("delta", "The change")
    updated = stock.stock_adjust(org_id=_org(), item_id=item.id, delta=delta, reason=request.form.get("reason", ""),
                                 by=current_user)
    if is_htmx():
        template = "inventory/_item_stock.html" if request.form.get("from") == "item" else "inventory/_row.html"
        return render_template(template, item=updated, adjusted=True)
    flash(f"{updated.sku}: {delta:+d} on hand, now {updated.available} available.", "success")
    return redirect(request.referrer or url_for("inventory.item", item_id=item.id))


@bp.get("/items/<int:item_id>")
@view_roles
def item(item_id: int):
    row = get_or_404(Item, item_id)
    page = paginate(selectors.movements_query(_org(), row.id), request.args.get("page", 1), per_page=50)
    return render("inventory/item.html", "inventory/_ledger.html", item=row, page=page, errors={}, form=None,
                  categories=services.categories_all(_org()), **_holds_context(row))


def _holds_context(item: Item, error: str | None = None, typed: dict | None = None) -> dict:
    return {"holds": holds.active_holds(_org(), item.id), "hold_error": error, "hold_input": typed or {},
            "images": item_details.item_images(_org(), item.id),
            "attributes_text": item_details.attributes_text(item.attributes), "details_error": None}


def _item_page(item_id: int, status: int, **extra):
    row = get_or_404(Item, item_id)
    page = paginate(selectors.movements_query(_org(), row.id), 1, per_page=50)
    context = {**_holds_context(row), **extra}
    return render_template("inventory/item.html", item=row, page=page, errors={}, form=None,
                           categories=services.categories_all(_org()), **context), status


@bp.post("/items/<int:item_id>/attributes")
@manage
def item_attributes(item_id: int):
    row = get_or_404(Item, item_id)
    text = request.form.get("attributes", "")
    try:
        item_details.item_attributes_set(org_id=_org(), item_id=row.id, text=text, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        return _item_page(item_id, exc.status, attributes_text=text, details_error=exc.message)
    flash("Attributes saved.", "success")
    return redirect(url_for("inventory.item", item_id=row.id))


@bp.post("/items/<int:item_id>/images")
@manage
def item_images_add(item_id: int):
    row = get_or_404(Item, item_id)
    files = [(f.filename, f.stream) for f in request.files.getlist("images") if f and f.filename]
    try:
        item_details.item_images_add(org_id=_org(), item_id=row.id, files=files, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        return _item_page(item_id, exc.status, details_error=exc.message)
    flash("Pictures added.", "success")
    return redirect(url_for("inventory.item", item_id=row.id))


@bp.post("/items/<int:item_id>/images/<int:image_id>/delete")
@manage
def item_image_delete(item_id: int, image_id: int):
    row = get_or_404(Item, item_id)
    item_details.item_image_remove(org_id=_org(), item_id=row.id, image_id=image_id, by=current_user)
    flash("Picture removed.", "success")
    return redirect(url_for("inventory.item", item_id=row.id))


@bp.get("/items/<int:item_id>/images/<int:image_id>")
@view_roles
def item_image(item_id: int, image_id: int):
    """An item's picture (or its thumbnail) for members of its organisation."""
    row = get_or_404(Item, item_id)
    image = next((i for i in item_details.item_images(_org(), row.id) if i.id == image_id), None) or abort(404)
    thumb = request.args.get("size") == "thumb"
    return storage.send_stored(image.thumb_sha256 if thumb else image.sha256,
                               "image/jpeg" if thumb else f"image/{image.format.lower()}")


@bp.get("/items/<int:item_id>/holds")
@view_roles
def item_holds(item_id: int):
    return render_template("inventory/_holds.html", item=get_or_404(Item, item_id),
                           **_holds_context(get_or_404(Item, item_id)))


@bp.post("/items/<int:item_id>/holds")
@view_roles
def hold_create(item_id: int):
    """Put units aside by hand; refused holds are explained next to the form with what was typed."""
    row = get_or_404(Item, item_id)
    typed = {"quantity": request.form.get("quantity", ""), "reason": request.form.get("reason", "")}
    try:
        hold = holds.hold_create(org_id=_org(), item_id=row.id, by=current_user, **typed)
    except DomainError as exc:
        db.session.rollback()
        return _item_page(item_id, exc.status, hold_error=exc.message, hold_input=typed)
    flash(f"{hold.quantity} × {row.sku} held for {hold.reason}.", "success")
    return redirect(url_for("inventory.item", item_id=row.id))


@bp.post("/items/<int:item_id>/holds/<int:hold_id>/release")
@view_roles
def hold_release(item_id: int, hold_id: int):
    row = get_or_404(Item, item_id)
    holds.hold_release(org_id=_org(), hold_id=hold_id, by=current_user)
    flash("Hold released.", "success")
    return redirect(url_for("inventory.item", item_id=row.id))


def _item_fields() -> dict:
    f = request.form
    return {"title": f.get("title", ""), "category_path": f.get("category_path") or None,
            "reorder_point": _int_field("reorder_point", "The reorder point", 0), "price": f.get("price") or None,
            "currency": f.get("currency") or None, "gtin": f.get("gtin") or None, "brand": f.get("brand"),
            "model": f.get("model")}


@bp.post("/items/<int:item_id>")
@manage
def item_edit(item_id: int):
    row = get_or_404(Item, item_id)
    try:
        services.item_update(org_id=_org(), item_id=row.id, by=current_user,
                             discontinued=request.form.get("discontinued") == "1", **_item_fields())
    except DomainError as exc:
        db.session.rollback()
        page = paginate(selectors.movements_query(_org(), row.id), 1, per_page=50)
        return render_template("inventory/item.html", item=get_or_404(Item, item_id), page=page,
                               errors={exc.field or "title": exc.message}, form=request.form,
                               categories=services.categories_all(_org()),
                               **_holds_context(get_or_404(Item, item_id))), exc.status
    flash("Saved.", "success")
    return redirect(url_for("inventory.item", item_id=row.id))


@bp.route("/items/new", methods=["GET", "POST"])
@manage
def item_new():
    errors, status = {}, 200
    if request.method == "POST":
        try:
            fields = _item_fields()
            created = services.item_create(
                org_id=_org(), by=current_user, sku=request.form.get("sku", ""),
                initial_stock=_int_field("initial_stock", "Initial stock", 0),
                unit_cost=request.form.get("unit_cost") or None, **fields)
        except DomainError as exc:
            db.session.rollback()
            errors, status = {exc.field or "sku": exc.message}, exc.status
        else:
            flash(f"Added {created.sku}.", "success")
            return redirect(url_for("inventory.item", item_id=created.id))
    return render_template("inventory/new.html", errors=errors, form=request.form,
                           categories=services.categories_all(_org())), status


# --- prices: the pricing rule and the bulk editor -------------------------------------------------

def _prices_page(*, errors: dict | None = None, form=None, status: int = 200):
    q, unpriced_only = (request.values.get("q") or "").strip()[:100], request.values.get("unpriced") == "1"
    page = paginate(selectors.price_list_query(_org(), q, unpriced_only), request.values.get("page", 1),
                    per_page=PER_PAGE)
    rule = pricing.pricing_rule_for(_org())
    unpriced, unpriced_with_cost = selectors.unpriced_counts(_org())
    return render_template("inventory/prices.html", page=page, q=q, unpriced_only=unpriced_only, rule=rule,
                           rule_price=pricing.rule_price, example_cost=Decimal("4.20"), endings=pricing.PRICE_ENDINGS, unpriced=unpriced,
                           unpriced_with_cost=unpriced_with_cost, errors=errors or {}, form=form or {}), status


@bp.get("/prices")
@view_roles
def prices_page():
    return _prices_page()


@bp.post("/prices/rule")
@manage
def pricing_rule_save():
    try:
        pricing.pricing_rule_save(org_id=_org(), by=current_user, markup_percent=request.form.get("markup_percent"),
                                  price_ending=request.form.get("price_ending"),
                                  min_margin_percent=request.form.get("min_margin_percent"))
    except DomainError as exc:
        db.session.rollback()
        return _prices_page(errors={exc.field or "rule": exc.message, "rule": exc.message}, form=request.form,
                            status=exc.status)
    flash("Pricing rule saved. Supplier imports now price new items with it.", "success")
    return redirect(url_for("inventory.prices_page"))


@bp.post("/prices/apply")
@manage
def prices_apply():
    selected = request.form.get("scope") == "selected"
    try:
        ids = [int(v) for v in request.form.getlist("item_ids")] if selected else None
        outcome = pricing.prices_apply(org_id=_org(), by=current_user, item_ids=ids)
    except ValueError:
        return _prices_page(errors={"bulk": "The selection names an unknown item."}, form=request.form, status=422)
    except DomainError as exc:
        db.session.rollback()
        return _prices_page(errors={"bulk": exc.message}, form=request.form, status=exc.status)
    flash(outcome.summary, "success" if outcome.priced else "info")
    return redirect(url_for("inventory.prices_page", q=request.form.get("q") or None,
                            unpriced=request.form.get("unpriced") or None))


@bp.post("/prices")
@manage
def prices_save():
    typed = {key.removeprefix("price_"): value for key, value in request.form.items() if key.startswith("price_")}
    try:
        changed = pricing.prices_set(org_id=_org(), by=current_user,
                                     prices={int(k): v for k, v in typed.items() if k.isdigit()})
    except pricing.BulkPriceErrors as exc:
        return _prices_page(errors={"bulk": exc.message, **exc.errors}, form=request.form, status=exc.status)
    except DomainError as exc:
        db.session.rollback()
        return _prices_page(errors={"bulk": exc.message}, form=request.form, status=exc.status)
    flash(f"Saved {len(changed)} price{'s' if len(changed) != 1 else ''}.", "success")
    return redirect(url_for("inventory.prices_page", q=request.form.get("q") or None,
                            unpriced=request.form.get("unpriced") or None))


# --- category rules -----------------------------------------------------------------------------

@bp.get("/rules")
@view_roles
def rules_page():
    rows = rules.rules_ensure(org_id=_org())
    trial = (request.args.get("try") or "").strip()[:300]
    decision = assign_category(trial, [r.to_dict() for r in rows]) if trial else None
    return render_template("inventory/rules.html", rules=rows, trial=trial, decision=decision, errors={})


def _rule_form_save(rule_id: int | None):
    try:
        rules.rule_save(org_id=_org(), rule_id=rule_id, path=request.form.get("path", ""),
                        keywords=request.form.get("keywords", ""), priority=request.form.get("priority", "0"),
                        by=current_user)
    except DomainError as exc:
        db.session.rollback()
        return render_template("inventory/rules.html", rules=rules.rules_ensure(org_id=_org()), trial="",
                               decision=None, errors={rule_id or "new": exc.message}, form=request.form), exc.status
    flash("Rule saved. New imports use it; existing items keep their category.", "success")
    return redirect(url_for("inventory.rules_page"))


@bp.post("/rules")
@manage
def rule_create():
    return _rule_form_save(None)


@bp.post("/rules/<int:rule_id>")
@manage
def rule_update(rule_id: int):
    return _rule_form_save(get_or_404(CategoryRule, rule_id).id)


@bp.post("/rules/<int:rule_id>/delete")
@manage
def rule_delete(rule_id: int):
    rule = get_or_404(CategoryRule, rule_id)
    rules.rule_delete(org_id=_org(), rule_id=rule.id, by=current_user)
    flash(f"Deleted the rule for {rule.path}.", "success")
    return redirect(url_for("inventory.rules_page"))


# --- reports and exports ------------------------------------------------------------------------

def _reports_page(error: str | None = None, typed: dict | None = None, status: int = 200):
    tree = reports.stock_value_tree(_org())
    return render_template("inventory/reports.html", tree=tree, total=reports.grand_totals(tree),
                           low=reports.low_stock(_org()), error=error, typed=typed or {},
                           currencies=reports.currencies), status


@bp.get("/reports")
@manage
def reports_page():
    """Stock value by category tree, low stock, and the CSV exports."""
    return _reports_page()


@bp.get("/reports/export")
@manage
def export():
    """Items (now) or the ledger of a date range as formula-safe CSV; a bad range is explained on the page."""
    kind, args = request.args.get("kind", ""), request.args
    try:
        if kind == "items":
            body, stem = reports.items_csv(_org()), "items"
        elif kind == "ledger":
            start, end = reports.parse_range(args.get("date_from", ""), args.get("date_to", ""))
            body, stem = reports.ledger_csv(_org(), start, end), f"ledger-{args['date_from']}-{args['date_to']}"
        else:
            abort(404)
    except DomainError as exc:
        return _reports_page(exc.message, dict(args), exc.status)
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})


# The supplier import pages live in their own module, on this blueprint (imported last: it needs `bp`).
from app.inventory import import_views  # noqa: E402,F401
