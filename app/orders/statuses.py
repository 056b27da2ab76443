"""The order status flow: one status set (app.core.statuses), one table of the actions that move it.

Besides the actions a person presses, some moves follow from the order's lines and shipments:
a line going into production moves a confirmed order to "in production" (and back when every
line waits again), a shipment moves it to "partly shipped" or "shipped", and an unpaid order
whose reservation ran out goes back to "draft". They are in the same table of moves, so every
change, pressed or derived, goes through `OrderStatus.check`.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.core.statuses import StatusEnum, define


class OrderStatus(StatusEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    IN_PRODUCTION = "in_production"
    PARTLY_SHIPPED = "partly_shipped"
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
    S.PARTLY_SHIPPED: ("ship",),
    S.SHIPPED: ("deliver",),
    S.DELIVERED: ("refund",),
    S.CANCELLED: (),
    S.REFUNDED: (),
}

# Moves that follow from lines, shipments and expiry rather than from a button.
DERIVED_MOVES: dict[OrderStatus, set[OrderStatus]] = {
    S.CONFIRMED: {S.PARTLY_SHIPPED, S.DRAFT},
    S.IN_PRODUCTION: {S.CONFIRMED, S.PARTLY_SHIPPED},
    S.PARTLY_SHIPPED: set(),
}


def _moves() -> dict:
    moves = {status: {ACTIONS[name].target for name in names} for status, names in TRANSITIONS.items()}
    for status, extra in DERIVED_MOVES.items():
        moves[status] |= extra
    return moves


define(OrderStatus, moves=_moves(), groups={
    # stock reserved for the unshipped part: a cancel or an amendment from here moves reservations
    "holding_stock": {S.CONFIRMED, S.IN_PRODUCTION, S.PARTLY_SHIPPED},
    "sold": {S.CONFIRMED, S.IN_PRODUCTION, S.PARTLY_SHIPPED, S.SHIPPED, S.DELIVERED},  # counts as a sale
    "open": {S.DRAFT, S.CONFIRMED, S.IN_PRODUCTION, S.PARTLY_SHIPPED, S.SHIPPED},
    "in_work": {S.CONFIRMED, S.IN_PRODUCTION, S.PARTLY_SHIPPED},  # lines are made, packed and shipped
})
HOLDING_STOCK = S.group("holding_stock")
SOLD = S.group("sold")
OPEN = S.group("open")
IN_WORK = S.group("in_work")


def allowed_actions(status: OrderStatus) -> list[Action]:
    """The actions the UI may offer for an order in this status."""
    return [ACTIONS[name] for name in TRANSITIONS[OrderStatus(status)]]


def stock_operation(status: OrderStatus, action: str) -> str | None:
    """The stock operation an action performs from this status (a draft's cancel holds nothing)."""
    op = ACTIONS[action].stock
    if op == "release" and OrderStatus(status) not in HOLDING_STOCK:
        return None
    return op


class LineStatus(StatusEnum):
    """Where one order line is in the workshop (shipping is counted separately, by quantity)."""

    WAITING = "waiting"
    IN_PRODUCTION = "in_production"
    MADE = "made"
    PACKED = "packed"


L = LineStatus
# Forward to any later step (a piece can be made without being marked started), back one step to correct.
define(LineStatus, moves={
    L.WAITING: {L.IN_PRODUCTION, L.MADE, L.PACKED},
    L.IN_PRODUCTION: {L.WAITING, L.MADE, L.PACKED},
    L.MADE: {L.IN_PRODUCTION, L.PACKED},
    L.PACKED: {L.MADE},
})
LINE_NEXT = {L.WAITING: L.IN_PRODUCTION, L.IN_PRODUCTION: L.MADE, L.MADE: L.PACKED, L.PACKED: None}


class PaymentStatus(StatusEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    REFUNDED = "refunded"


P = PaymentStatus
define(PaymentStatus, moves={P.UNPAID: {P.PAID}, P.PAID: {P.UNPAID, P.REFUNDED}, P.REFUNDED: set()})

# Outgoing webhook events of orders (the inbox's endpoints offer these to subscribe to).
ORDER_WEBHOOK_EVENTS = ("order.created", "order.confirmed", "order.amended", "order.shipped", "order.delivered",
                        "order.cancelled", "order.refunded", "order.paid", "order.reservation_expired")
