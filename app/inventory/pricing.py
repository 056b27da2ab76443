"""Selling prices from unit costs: the organisation's pricing rule, applied on import and on demand.

A price typed by a person is never replaced by the rule unless that person asks for it on a
selection; "apply to unpriced items" and supplier imports only fill prices that are missing.
An item without a unit cost gets no price: the rule has nothing to start from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_UP, Decimal, InvalidOperation

from sqlalchemy import select

from app.core import audit
from app.core.errors import InvalidInput
from app.core.events import publish_after_commit
from app.core.models import User, user_id_of
from app.extensions import db
from app.inventory.models import Item, PricingRule
from app.inventory.services import _money
from app.inventory.stock import EVENT

CENT = Decimal("0.01")
# The endings offered on the form: value stored, label shown.
PRICE_ENDINGS = (("", "Round up to the cent"), ("0.00", "Whole amounts (.00)"), ("0.49", ".49"),
                 ("0.90", ".90"), ("0.95", ".95"), ("0.99", ".99"))
MAX_BULK_ITEMS = 500


def price_from_cost(cost: Decimal, *, markup_percent: Decimal, price_ending: Decimal | None,
                    min_margin_percent: Decimal) -> Decimal:
    """Cost plus the markup, raised to keep the minimum margin, then rounded up to the ending."""
    price = cost * (1 + markup_percent / 100)
    if min_margin_percent:
        price = max(price, cost / (1 - min_margin_percent / 100))
    if price_ending is None:
        return price.quantize(CENT, rounding=ROUND_UP)
    # The smallest "whole amount + ending" not below the price: rounding only ever goes up,
    # so the margin the two rules above guarantee is kept.
    whole = (price - price_ending).to_integral_value(rounding=ROUND_CEILING)
    return (max(whole, Decimal(0)) + price_ending).quantize(CENT)


def rule_price(rule: PricingRule, cost: Decimal | None) -> Decimal | None:
    """The rule's price for a cost, or None when there is no cost (or a zero cost) to start from."""
    if cost is None or cost <= 0:
        return None
    return price_from_cost(cost, markup_percent=rule.markup_percent, price_ending=rule.price_ending,
                           min_margin_percent=rule.min_margin_percent)


def pricing_rule_for(org_id: int) -> PricingRule | None:
    """The organisation's pricing rule, or None until one is saved."""
    return db.session.scalar(select(PricingRule).where(PricingRule.organisation_id == org_id))


def _decimal(raw, *, field: str, label: str, low: Decimal, high: Decimal) -> Decimal:
    text = str(raw if raw is not None else "").strip().rstrip("%").strip().replace(",", ".")
    try:
        value = Decimal(text).quantize(CENT)
    except InvalidOperation:
        raise InvalidInput(f"{label} must be a number such as 120 (got {str(raw)!r}).", field=field) from None
    if not low <= value <= high:
        raise InvalidInput(f"{label} must be between {low} and {high} (got {value}).", field=field)
    return value


def _ending(raw) -> Decimal | None:
    text = str(raw or "").strip()
    if text not in {value for value, _ in PRICE_ENDINGS}:
        raise InvalidInput("Choose a price ending from the list.", field="price_ending")
    return Decimal(text) if text else None


def pricing_rule_save(*, org_id: int, markup_percent, price_ending, min_margin_percent, by: User | None) -> PricingRule:
    """Create or change the organisation's pricing rule. Commits."""
    markup = _decimal(markup_percent, field="markup_percent", label="The markup on cost (%)",
                      low=Decimal(0), high=Decimal(1000))
    margin = _decimal(min_margin_percent or "0", field="min_margin_percent", label="The minimum margin (%)",
                      low=Decimal(0), high=Decimal(95))
    ending = _ending(price_ending)
    rule = pricing_rule_for(org_id)
    before = _rule_dict(rule) if rule else None
    if rule is None:
        rule = PricingRule(organisation_id=org_id)
        db.session.add(rule)
    rule.markup_percent, rule.price_ending, rule.min_margin_percent = markup, ending, margin
    rule.updated_by_id = user_id_of(by)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="pricing_rule.save", object_type="pricing_rule",
                 object_id=org_id, before=before, after=_rule_dict(rule))
    db.session.commit()
    return rule


def _rule_dict(rule: PricingRule) -> dict:
    return {"markup_percent": str(rule.markup_percent), "min_margin_percent": str(rule.min_margin_percent),
            "price_ending": str(rule.price_ending) if rule.price_ending is not None else None}


@dataclass
class PricingOutcome:
    """What applying the rule did: items priced, and items left alone with the reason."""

    priced: list[Item] = field(default_factory=list)
    without_cost: list[Item] = field(default_factory=list)
    already_priced: int = 0

    @property
    def summary(self) -> str:
        parts = [f"{len(self.priced)} item{'s' if len(self.priced) != 1 else ''} priced by the rule"]
        if self.without_cost:
            parts.append(f"{len(self.without_cost)} left unpriced because they have no unit cost")
        if self.already_priced:
            parts.append(f"{self.already_priced} already had a price and were kept")
        return "; ".join(parts) + "."


def price_unpriced(rule: PricingRule | None, item: Item) -> bool:
    """Give a new or unpriced item the rule's price (does not commit); True when it was priced."""
    if rule is None or item.price is not None:
        return False
    price = rule_price(rule, item.unit_cost)
    if price is None:
        return False
    item.price = price
    return True


def _require_rule(org_id: int) -> PricingRule:
    rule = pricing_rule_for(org_id)
    if rule is None:
        raise InvalidInput("Save a pricing rule first: the markup on cost is what the prices are made from.")
    return rule


def prices_apply(*, org_id: int, by: User | None, item_ids: list[int] | None = None) -> PricingOutcome:
    """Price items from the rule: every unpriced item, or exactly the selected ones (replacing their price). Commits."""
    rule = _require_rule(org_id)
    query = select(Item).where(Item.organisation_id == org_id, Item.discontinued.is_(False))
    if item_ids is None:
        query = query.where(Item.price.is_(None))
    else:
        if not item_ids:
            raise InvalidInput("Tick at least one item to price.", field="item_ids")
        query = query.where(Item.id.in_(item_ids[:MAX_BULK_ITEMS]))
    outcome = PricingOutcome()
    for item in db.session.scalars(query.order_by(Item.id)):
        price = rule_price(rule, item.unit_cost)
        if price is None:
            outcome.without_cost.append(item)
            continue
        item.price = price
        outcome.priced.append(item)
    _announce(org_id, by, "prices.apply", outcome.priced, {"rule": _rule_dict(rule), "selection": item_ids is not None})
    db.session.commit()
    return outcome


def _announce(org_id: int, by: User | None, action: str, items: list[Item], extra: dict) -> None:
    if not items:
        return
    audit.record(org_id=org_id, actor_id=user_id_of(by), action=action, object_type="inventory_item",
                 object_id=None, after={**extra, "prices": {i.sku: str(i.price) for i in items[:100]},
                                        "count": len(items)})
    publish_after_commit(org_id, EVENT, {"item_ids": [i.id for i in items]})


class BulkPriceErrors(InvalidInput):
    """Some typed prices were refused; `errors` maps item id to the reason. Nothing was saved."""

    def __init__(self, errors: dict[int, str]):
        super().__init__(f"{len(errors)} price{'s' if len(errors) != 1 else ''} could not be saved; "
                         "nothing was changed. Correct the marked rows.", field="prices")
        self.errors = errors


def prices_set(*, org_id: int, by: User | None, prices: dict[int, str]) -> list[Item]:
    """Save prices typed on the bulk editor, all or none; an empty box clears nothing. Commits."""
    wanted = {int(k): str(v).strip() for k, v in prices.items() if str(v or "").strip()}
    if not wanted:
        raise InvalidInput("Type at least one price.", field="prices")
    items = {i.id: i for i in db.session.scalars(select(Item).where(
        Item.organisation_id == org_id, Item.id.in_(list(wanted)[:MAX_BULK_ITEMS])))}
    errors: dict[int, str] = {}
    changed: list[Item] = []
    for item_id, raw in wanted.items():
        item = items.get(item_id)
        if item is None:
            errors[item_id] = "This item does not exist."
            continue
        try:
            price = _money(raw, "price")
        except InvalidInput as exc:
            errors[item_id] = exc.message
            continue
        if not item.currency:
            errors[item_id] = "Set the item's currency first (on its page)."
            continue
        if price != item.price:
            item.price = price
            changed.append(item)
    if errors:
        db.session.rollback()
        raise BulkPriceErrors(errors)
    _announce(org_id, by, "prices.set", changed, {})
    db.session.commit()
    return changed
