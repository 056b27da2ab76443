"""Orders pages: list, new order, order page with live status, designs, and the staff's to-do list."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.auth import role_required
from app.core.errors import DomainError
from app.core.htmx import is_htmx, render
from app.core.nav import register_card, register_nav
from app.core.pagination import paginate
from app.core.tenancy import get_or_404
from app.orders import selectors, services
from app.orders.forms import DesignForm, LineInput, NoteForm, OrderForm, TotalsForm, parse_filters, parse_lines
from app.orders.models import Design, Order
from app.orders.statuses import ACTIONS, OrderStatus

bp = Blueprint("orders", __name__, url_prefix="/orders")
staff_required = role_required("staff", "manager")

register_nav("Orders", "orders.index", roles=("staff", "manager"), order=30)


def _card(org_id: int) -> dict:
    return {"counts": selectors.open_counts(org_id)}


register_card("orders", title="Open orders", template="orders/_card.html", load=_card, events=(services.EVENT,),
              roles=("staff", "manager"), order=30)


def _org() -> int:
    return current_user.organisation_id


@bp.get("/")
@staff_required
def index():
    filters, problems = parse_filters(request.args)
    page = paginate(selectors.order_list_query(_org(), filters), request.args.get("page"), per_page=50)
    return render("orders/index.html", "orders/_rows.html", page=page, filters=filters, problems=problems,
                  statuses=list(OrderStatus))


@bp.get("/today")
@staff_required
def today():
    return render("orders/today.html", "orders/_today_rows.html", orders=selectors.orders_to_act_on(_org()))


# --- new order ----------------------------------------------------------------------------------

def _line_context(lines: list[LineInput]) -> dict:
    ids = [line.item_id for line in lines] + [c for line in lines for c in line.charm_ids]
    return {"lines": lines, "items": selectors.items_by_id(_org(), [i for i in ids if str(i).isdigit()]),
            "charms": selectors.charm_choices(_org())}


def _order_form_page(form: OrderForm, lines: list[LineInput], error: str | None = None, status: int = 200):
    form.customer_id.choices = [("", "— guest or new customer —")] + [
        (str(c.id), f"{c.name} <{c.email}>" if c.email else c.name) for c in selectors.customers_for(_org())]
    return render_template("orders/new.html", form=form, error=error, designs=selectors.designs_for(_org()),
                           **_line_context(lines)), status


def _design_line(design_id) -> LineInput | None:
    design = get_or_404(Design, design_id) if design_id else None
    if design is None:
        return None
    spec = services.design_line(design)
    custom = spec["customisation"]
    return LineInput(key=secrets.token_hex(4), item_id=str(spec["item_id"]),
                     chain_length_cm=custom["chain_length_cm"] or "", engraving=custom["engraving"] or "",
                     charm_ids=[str(c) for c in custom["charm_ids"]], design_id=str(design.id))


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = OrderForm()
    if request.method == "GET":
        design_line = _design_line(request.args.get("design_id", type=int))
        return _order_form_page(form, [design_line] if design_line else [])
    lines = parse_lines(request.form)
    if not form.validate_on_submit():
        return _order_form_page(form, lines, "Check the fields marked below.", 422)
    try:
        order = services.order_create(org_id=_org(), customer=form.customer(), lines=[ln.spec() for ln in lines],
                                      by=current_user, notes=form.notes.data or "",
                                      tax_rate=form.tax_rate.data, shipping=form.shipping.data)
    except DomainError as exc:
        target = getattr(form, exc.field, None) if exc.field else None
        if target is not None:
            target.errors = [*target.errors, exc.message]
        return _order_form_page(form, lines, exc.message, exc.status)
    flash(f"Order {order.number} created as a draft. Confirm it to reserve the stock.", "success")
    return redirect(url_for("orders.show", order_id=order.id))


@bp.get("/picker")
@staff_required
def picker():
    """Search results for the line picker (an HTMX partial)."""
    q = request.args.get("q", "")
    return render_template("orders/_picker.html", items=selectors.item_search(_org(), q), q=q)


@bp.get("/line")
@staff_required
def line():
    """One new line row for an item, or for a saved design."""
    line_input = _design_line(request.args.get("design_id", type=int))
    if line_input is None:
        item_id = request.args.get("item_id", type=int)
        if item_id is None or not selectors.items_by_id(_org(), [item_id]):
            abort(404, "No such item in your inventory.")
        line_input = LineInput(key=secrets.token_hex(4), item_id=str(item_id))
    return render_template("orders/_line.html", **_line_context([line_input]), line=line_input)


# --- one order ----------------------------------------------------------------------------------

def _totals_form(order: Order) -> TotalsForm:
    return TotalsForm(formdata=None, data={"tax_rate": order.tax_rate, "shipping": order.shipping})


def _show(order: Order, status: int = 200, error: str | None = None, totals_form: TotalsForm | None = None):
    return render_template("orders/show.html", order=order, error=error, note_form=NoteForm(),
                           totals_form=totals_form or _totals_form(order)), status


def _live(order_id: int) -> str:
    order = get_or_404(Order, order_id)
    return render_template("orders/_live.html", order=order, totals_form=_totals_form(order))


@bp.get("/<int:order_id>")
@staff_required
def show(order_id: int):
    return _show(get_or_404(Order, order_id))


@bp.get("/<int:order_id>/live")
@staff_required
def live(order_id: int):
    """The order's lines, totals, status, allowed actions and timeline (re-fetched on order-changed)."""
    return _live(order_id)


@bp.post("/<int:order_id>/actions/<action>")
@staff_required
def act(order_id: int, action: str):
    order = get_or_404(Order, order_id)
    if action not in ACTIONS:
        abort(404)
    try:
        services.order_transition(org_id=_org(), order_id=order.id, action=action, by=current_user,
                                  note=request.form.get("note", ""), restock=request.form.get("restock") == "1")
    except DomainError as exc:
        if is_htmx():
            raise  # becomes a toast with the message; the panel keeps showing the real state
        return _show(get_or_404(Order, order_id), exc.status, exc.message)
    if is_htmx():
        return _live(order_id)
    flash(f"Order {order.number}: {ACTIONS[action].target.label.lower()}.", "success")
    return redirect(url_for("orders.show", order_id=order.id))


@bp.post("/<int:order_id>/totals")
@staff_required
def totals(order_id: int):
    order = get_or_404(Order, order_id)
    form = TotalsForm()
    if not form.validate_on_submit():
        return _show(order, 422, "Enter a tax rate and a shipping amount.", form)
    try:
        services.order_update_totals(org_id=_org(), order_id=order.id, tax_rate=form.tax_rate.data,
                                     shipping=form.shipping.data, by=current_user)
    except DomainError as exc:
        return _show(get_or_404(Order, order_id), exc.status, exc.message, form)
    flash("Totals updated.", "success")
    return redirect(url_for("orders.show", order_id=order.id))


@bp.post("/<int:order_id>/notes")
@staff_required
def note(order_id: int):
    order = get_or_404(Order, order_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _show(order, 422, "Write a note first.")
    services.order_add_note(org_id=_org(), order_id=order.id, note=form.note.data, by=current_user)
    return redirect(url_for("orders.show", order_id=order.id))


# --- designs ------------------------------------------------------------------------------------

@bp.route("/designs", methods=["GET", "POST"])
@staff_required
def designs():
    form = DesignForm()
    products = selectors.item_search(_org(), "", limit=500)
    charms = selectors.charm_choices(_org())
    form.product_item_id.choices = [("", "— choose —")] + [(str(i.id), f"{i.sku} · {i.title}") for i in products]
    form.component_item_ids.choices = [(str(i.id), f"{i.sku} · {i.title}") for i in charms]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                design = services.design_create(
                    org_id=_org(), name=form.name.data, product_item_id=form.product_item_id.data,
                    component_item_ids=form.component_item_ids.data or [], notes=form.notes.data or "",
                    options={"chain_length_cm": form.chain_length_cm.data, "engraving": form.engraving.data},
                    by=current_user)
            except DomainError as exc:
                target = getattr(form, exc.field or "name", form.name)
                target.errors = [*target.errors, exc.message]
                status = exc.status
            else:
                flash(f"Design {design.name!r} saved.", "success")
                return redirect(url_for("orders.designs"))
    rows = selectors.designs_for(_org())
    items = selectors.items_by_id(_org(), {i for d in rows for i in [d.product_item_id, *d.component_item_ids]})
    return render_template("orders/designs.html", form=form, designs=rows, items=items), status


@bp.post("/designs/<int:design_id>/delete")
@staff_required
def design_delete(design_id: int):
    design = get_or_404(Design, design_id)
    name = design.name
    services.design_delete(org_id=_org(), design_id=design.id, by=current_user)
    flash(f"Design {name!r} deleted.", "success")
    return redirect(url_for("orders.designs"))
