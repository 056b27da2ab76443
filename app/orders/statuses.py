"""The order status flow: one status set (app.core.statuses), one table of the actions that move it."""
from __future__ import annotations

from dataclasses import dataclass

from app.core.statuses import StatusEnum, define


class OrderStatus(StatusEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"



S = OrderStatus


@dataclass(frozen=True)
class Action:
    name: str  # used in URLs
    label: str
    target: OrderStatus
    stock: str | None  # which stock operation the move performs: reserve, release, ship, return
    danger: bool = False
    confirm: str | None = None


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("confirm", "Confirm and reserve stock", S.CONFIRMED, "reserve"),
    Action("start_production", "Start production", S.IN_PRODUCTION, None),
    Action("ship", "Mark shipped", S.SHIPPED, "ship"),
    Action("deliver", "Mark delivered", S.DELIVERED, None),
    Action("cancel", "Cancel order", S.CANCELLED, "release", danger=True, confirm="Cancel this order?"),
    Action("refund", "Refund", S.REFUNDED, "return", danger=True,
           confirm="Refund this order and put its items back in stock?"),
)}

# The single source of truth: from a status, which actions are allowed (and so which statuses follow).
TRANSITIONS: dict[OrderStatus, tuple[str, ...]] = {
    S.DRAFT: ("confirm", "cancel"),
    S.CONFIRMED: ("start_production", "ship", "cancel"),
    S.IN_PRODUCTION: ("ship", "cancel"),
    S.SHIPPED: ("deliver",),
    S.DELIVERED: ("refund",),
    S.CANCELLED: (),
    S.REFUNDED: (),
}

define(OrderStatus, moves={status: {ACTIONS[name].target for name in names} for status, names in TRANSITIONS.items()},
       groups={
           "holding_stock": {S.CONFIRMED, S.IN_PRODUCTION},  # stock reserved: a cancel from here releases it
           "sold": {S.CONFIRMED, S.IN_PRODUCTION, S.SHIPPED, S.DELIVERED},  # counts as a sale (market research)
           "open": {S.DRAFT, S.CONFIRMED, S.IN_PRODUCTION, S.SHIPPED},
       })
HOLDING_STOCK = S.group("holding_stock")
SOLD = S.group("sold")
OPEN = S.group("open")


def allowed_actions(status: OrderStatus) -> list[Action]:
    """The actions the UI may offer for an order in this status."""
    return [ACTIONS[name] for name in TRANSITIONS[OrderStatus(status)]]


def stock_operation(status: OrderStatus, action: str) -> str | None:
    """The stock operation an action performs from this status (a draft's cancel holds nothing)."""
    op = ACTIONS[action].stock
    if op == "release" and OrderStatus(status) not in HOLDING_STOCK:
        return None
    return op
