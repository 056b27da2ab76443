"""Forms of the orders pages. Order lines are a dynamic list, so they are read from the raw form data."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.orders.selectors import OrderFilters
from app.orders.statuses import OrderStatus

LINE_KEY = re.compile(r"^line-([A-Za-z0-9_]{1,40})-item_id$")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class OrderForm(FlaskForm):
    """The customer and totals part of the new-order form (lines come as line-<key>-<field>)."""

    customer_id = SelectField("Saved customer", coerce=str, validate_choice=False)
    customer_name = StringField("Name", validators=[Length(max=200)], filters=[_strip])
    customer_email = StringField("E-mail", validators=[Length(max=254)], filters=[_strip])
    customer_phone = StringField("Phone", validators=[Length(max=40)], filters=[_strip])
    shipping_address = TextAreaField("Shipping address", validators=[Length(max=2000)])
    billing_address = TextAreaField("Billing address", validators=[Length(max=2000)])
    save_customer = BooleanField("Save as a customer for next time", default=True)
    tax_rate = StringField("Tax rate (%)", default="0", filters=[_strip])
    shipping = StringField("Shipping", default="0.00", filters=[_strip])
    due_date = StringField("Wanted by", filters=[_strip])  # parsed by the service: its error names the field
    notes = TextAreaField("Notes", validators=[Length(max=4000)])

    def customer(self) -> dict:
        """The customer dict order_create takes (billing falls back to the shipping address)."""
        return {"id": self.customer_id.data or None, "name": self.customer_name.data,
                "email": self.customer_email.data, "phone": self.customer_phone.data,
                "shipping_address": self.shipping_address.data,
                "billing_address": self.billing_address.data or self.shipping_address.data,
                "save": self.save_customer.data}


@dataclass
class LineInput:
    """One order line as typed into the form (kept as text so a refused form shows it again)."""

    key: str
    item_id: str
    quantity: str = "1"
    chain_length_cm: str = ""
    charm_ids: list[str] = field(default_factory=list)
    engraving: str = ""
    design_id: str = ""
    line_id: str = ""  # an existing line being edited (empty: a new line)

    def spec(self) -> dict:
        return {"line_id": self.line_id or None, "item_id": self.item_id, "quantity": self.quantity,
                "design_id": self.design_id or None,
                "customisation": {"chain_length_cm": self.chain_length_cm, "engraving": self.engraving,
                                  "charm_ids": [c for c in self.charm_ids if c]}}


def parse_lines(form: MultiDict) -> list[LineInput]:
    """Every line-<key>-* group of the posted form, in the order the lines appear."""
    lines = []
    for name in form:
        match = LINE_KEY.match(name)
        if not match:
            continue
        key = match.group(1)
        get = lambda f, k=key: (form.get(f"line-{k}-{f}") or "").strip()  # noqa: E731
        lines.append(LineInput(key=key, item_id=get("item_id"), quantity=get("quantity") or "1",
                               chain_length_cm=get("chain_length_cm"), engraving=get("engraving"),
                               charm_ids=form.getlist(f"line-{key}-charm_ids"), design_id=get("design_id"),
                               line_id=get("line_id")))
    return lines


class TotalsForm(FlaskForm):
    tax_rate = StringField("Tax rate (%)", validators=[InputRequired()], filters=[_strip])
    shipping = StringField("Shipping", validators=[InputRequired()], filters=[_strip])


class NoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[InputRequired(), Length(max=2000)])


class DesignForm(FlaskForm):
    version = HiddenField()  # the version the editor saw: an edit made meanwhile is not overwritten
    name = StringField("Name", validators=[InputRequired(), Length(max=120)], filters=[_strip])
    product_item_id = SelectField("Product (template item)", coerce=str, validate_choice=False)
    component_item_ids = SelectMultipleField("Charms and components", coerce=str, validate_choice=False)
    chain_length_cm = DecimalField("Chain length (cm)", places=1, validators=[Optional(), NumberRange(1, 300)])
    engraving = StringField("Engraving", validators=[Length(max=100)], filters=[_strip])
    notes = TextAreaField("Notes", validators=[Length(max=2000)])
    public = BooleanField("Public within the organisation", default=True)
    images = MultipleFileField("Pictures")


class StockSettingsForm(FlaskForm):
    reservation_hours = IntegerField("Unpaid orders and holds keep their stock for (hours)",
                                     validators=[InputRequired(), NumberRange(0, 24 * 365)])


def parse_filters(args: MultiDict) -> tuple[OrderFilters, list[str]]:
    """The list page's filters from the query string; unusable values are dropped with a message."""
    problems: list[str] = []
    status = args.get("status", "").strip()
    if status and status not in {s.value for s in OrderStatus}:
        problems.append(f"Unknown status {status!r}: showing every status.")
        status = ""

    def _date(name: str, label: str) -> date | None:
        raw = args.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            problems.append(f"{label} {raw!r} is not a date like 2026-01-31: ignored.")
            return None

    filters = OrderFilters(status=status, date_from=_date("date_from", "From"), date_to=_date("date_to", "To"),
                           customer=args.get("customer", "").strip()[:200], q=args.get("q", "").strip()[:200])
    return filters, problems
