"""Orders pages: list, new order, the live order page (production per line, parcels, payment, due date),
line edits and amendments, exports, the reservation time, designs, and the to-act-on list."""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.auth import manager_required, role_required
from app.core.errors import DomainError
from app.core.htmx import is_htmx, render
from app.core.nav import register_card, register_nav
from app.core.pagination import paginate
from app.core.tenancy import get_or_404
from app.inventory import holds, reports
from app.orders import (
    amendments,
    exports,
    payments,
    production,
    reservations,  # noqa: F401 - registers the expiry sweeper the workers run
    selectors,
    services,
    shipments,
)
from app.orders import (
    designs as design_services,
)
from app.orders.forms import (
    LineInput,
    NoteForm,
    OrderForm,
    StockSettingsForm,
    TotalsForm,
    parse_filters,
    parse_lines,
)
from app.orders.models import Order
from app.orders.statuses import ACTIONS, OrderStatus, PaymentStatus

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
    return render("orders/today.html", "orders/_today_rows.html",
                  lines=selectors.lines_to_act_on_page(_org(), request.args.get("page", 1)),
                  drafts=selectors.drafts_waiting(_org()))


# --- new order ----------------------------------------------------------------------------------

def _line_context(lines: list[LineInput]) -> dict:
    ids = [line.item_id for line in lines] + [c for line in lines for c in line.charm_ids]
    return {"lines": lines, "items": selectors.items_by_id(_org(), [i for i in ids if str(i).isdigit()]),
            "charms": selectors.charm_choices(_org())}


def _order_form_page(form: OrderForm, lines: list[LineInput], error: str | None = None, status: int = 200):
    form.customer_id.choices = [("", "— guest or new customer —")] + [
        (str(c.id), f"{c.name} <{c.email}>" if c.email else c.name) for c in selectors.customers_for(_org())]
    return render_template("orders/new.html", form=form, error=error,
                           designs=selectors.visible_designs(_org(), current_user), **_line_context(lines)), status


def _design_line(design_id) -> LineInput | None:
    if not design_id:
        return None
    design = design_services.design_load(_org(), design_id, current_user)
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
                                      tax_rate=form.tax_rate.data, shipping=form.shipping.data,
                                      due_date=form.due_date.data)
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
    # Unpriced matches are shown too, greyed out, so a missing price is not mistaken for a missing item.
    return render_template("orders/_picker.html", items=selectors.item_search(_org(), q), q=q,
                           unpriced=selectors.item_search(_org(), q, limit=5, priced=False))


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


def _panel(order: Order, **extra) -> dict:
    """What the live panel shows besides the order: the totals form, payment moves, a refused parcel."""
    moves = [p for p in PaymentStatus if p in PaymentStatus.allowed(order.payment_status)]
    return {"order": order, "totals_form": _totals_form(order), "payment_moves": moves,
            "ship_error": None, "ship_input": {}, **extra}


def _show(order: Order, status: int = 200, error: str | None = None, totals_form: TotalsForm | None = None,
          **extra):
    context = _panel(order, **extra)
    if totals_form is not None:
        context["totals_form"] = totals_form
    return render_template("orders/show.html", error=error, note_form=NoteForm(), **context), status


def _live(order_id: int, status: int = 200, **extra):
    order = get_or_404(Order, order_id)
    return render_template("orders/_live.html", **_panel(order, **extra)), status


@bp.get("/<int:order_id>")
@staff_required
def show(order_id: int):
    return _show(get_or_404(Order, order_id))


@bp.get("/<int:order_id>/live")
@staff_required
def live(order_id: int):
    """The order's lines, totals, status, allowed actions and timeline (re-fetched on order-changed)."""
    return _live(order_id)[0]


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
        return _live(order_id)[0]
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


# --- production, shipments, payment, due date -------------------------------------------------

def _done(order_id: int, message: str):
    """After a change: the live panel for HTMX, else back to the order page with a message."""
    if is_htmx():
        return _live(order_id)[0]
    flash(message, "success")
    return redirect(url_for("orders.show", order_id=order_id))


@bp.post("/<int:order_id>/lines/<int:line_id>/production")
@staff_required
def line_production(order_id: int, line_id: int):
    """Move one line to another production step (the order's status follows)."""
    return _act(order_id, "Line moved.", lambda order: production.line_production_move(
        org_id=_org(), order_id=order.id, line_id=line_id, to=request.form.get("to", ""), by=current_user))


def _act(order_id: int, message: str, action, *, htmx_raises: bool = True):
    """Run one service action on the order; a refusal is shown on the order page (to an HTMX
    request, by the error handler's partial unless `htmx_raises` is off)."""
    order = get_or_404(Order, order_id)
    try:
        action(order)
    except DomainError as exc:
        if htmx_raises and is_htmx():
            raise
        return _show(get_or_404(Order, order_id), exc.status, exc.message)
    return _done(order_id, message)


@bp.post("/<int:order_id>/shipments")
@staff_required
def ship(order_id: int):
    """Ship some pieces of some lines as one parcel with carrier and tracking number."""
    order = get_or_404(Order, order_id)
    form = request.form
    quantities = {key.removeprefix("ship-"): value for key, value in form.items() if key.startswith("ship-")}
    typed = {"quantities": quantities, "carrier": form.get("carrier", ""),
             "tracking_number": form.get("tracking_number", ""), "note": form.get("note", "")}
    try:
        shipment = shipments.shipment_create(org_id=_org(), order_id=order.id, by=current_user, **typed)
    except DomainError as exc:
        # Refused parcels are explained inside the shipment form, with what was typed kept.
        if is_htmx():
            return _live(order_id, exc.status, ship_error=exc.message, ship_input=typed)
        return _show(get_or_404(Order, order_id), exc.status, exc.message, ship_error=exc.message, ship_input=typed)
    return _done(order_id, f"Parcel {shipment.number} shipped.")


@bp.get("/<int:order_id>/shipments/<int:number>/packing-slip.pdf")
@staff_required
def packing_slip(order_id: int, number: int):
    order = get_or_404(Order, order_id)
    shipment = selectors.shipment_of(order, number) or abort(404, "No such parcel on this order.")
    from app.orders.packing_slip import packing_slip_pdf  # fpdf2 only where a slip is printed

    return Response(packing_slip_pdf(shipment), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="packing-slip-{order.number}-S{number}.pdf"'})


@bp.post("/<int:order_id>/payment")
@staff_required
def payment(order_id: int):
    return _act(order_id, "Payment state updated.", lambda order: payments.order_payment_set(
        org_id=_org(), order_id=order.id, to=request.form.get("to", ""), by=current_user,
        note=request.form.get("note", "")))


@bp.post("/<int:order_id>/due-date")
@staff_required
def due_date(order_id: int):
    return _act(order_id, "Due date saved.", lambda order: services.order_set_due_date(
        org_id=_org(), order_id=order.id, due_date=request.form.get("due_date", ""), by=current_user),
        htmx_raises=False)


# --- editing lines: drafts freely, confirmed orders through an amendment --------------------------

def _lines_of(order: Order) -> list[LineInput]:
    inputs = []
    for line in order.lines:
        custom = line.customisation or {}
        inputs.append(LineInput(key=f"l{line.id}", item_id=str(line.item_id), quantity=str(line.quantity),
                                chain_length_cm=custom.get("chain_length_cm") or "",
                                engraving=custom.get("engraving") or "",
                                charm_ids=[str(c["item_id"]) for c in custom.get("charms") or []],
                                design_id=str(line.design_id or ""), line_id=str(line.id)))
    return inputs


def _edit_page(order: Order, lines: list[LineInput], error: str | None = None, status: int = 200,
               note: str = "", revision=None):
    return render_template("orders/edit.html", order=order, error=error, note=note,
                           revision=order.revision if revision is None else revision,
                           **_line_context(lines)), status


@bp.route("/<int:order_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(order_id: int):
    """Change a draft's lines, or amend a confirmed order's (stock re-reserved all or nothing)."""
    order = get_or_404(Order, order_id)
    if request.method == "GET":
        return _edit_page(order, _lines_of(order))
    lines, note, revision = parse_lines(request.form), request.form.get("note", ""), request.form.get("revision")
    try:
        amendments.order_lines_update(org_id=_org(), order_id=order.id, lines=[ln.spec() for ln in lines],
                                      by=current_user, revision=revision if str(revision).isdigit() else None,
                                      note=note)
    except DomainError as exc:
        return _edit_page(get_or_404(Order, order_id), lines, exc.message, exc.status, note, revision)
    flash("Lines saved." if order.status == OrderStatus.DRAFT else "Amendment recorded.", "success")
    return redirect(url_for("orders.show", order_id=order_id))


# --- exports -----------------------------------------------------------------------------------

@bp.get("/export")
@manager_required
def export():
    """Orders or order lines created in a date range as formula-safe CSV; the form explains a bad range."""
    kind = request.args.get("kind")
    if kind is None:
        return render_template("orders/export.html", error=None, typed={})
    try:
        start, end = reports.parse_range(request.args.get("date_from", ""), request.args.get("date_to", ""))
        if kind not in ("orders", "lines"):
            abort(404)
        body = (exports.orders_csv if kind == "orders" else exports.order_lines_csv)(_org(), start, end)
    except DomainError as exc:
        return render_template("orders/export.html", error=exc.message, typed=request.args), exc.status
    stem = f"{'orders' if kind == 'orders' else 'order-lines'}-{request.args['date_from']}-{request.args['date_to']}"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})


# --- reservation settings ---------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@manager_required
def settings():
    """How long an unpaid confirmed order (or a hold) keeps its stock."""
    form = StockSettingsForm(data={"reservation_hours": holds.reservation_hours(_org())})
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            holds.stock_settings_set(org_id=_org(), reservation_hours=form.reservation_hours.data, by=current_user)
            flash("Reservation time saved; orders confirmed from now on use it.", "success")
            return redirect(url_for("orders.settings"))
    return render_template("orders/settings.html", form=form), status


# --- designs ------------------------------------------------------------------------------------


# The design pages live in their own module, on this blueprint (imported last: it needs `bp`).
from app.orders import design_views  # noqa: E402,F401
