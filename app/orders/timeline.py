"""The one order event stream: every order event goes to the timeline, the live pages and the webhooks.

`order_event` is called inside the transaction that makes the change: the timeline row is part
of it, the outgoing webhook deliveries are queued in it (and sent after commit by the inbox's
delivery jobs), and the live pages hear `order-changed` after commit. A change that rolls back
leaves no trace in any of the three.
"""
from __future__ import annotations

from app.core.events import publish_after_commit
from app.core.models import User, user_id_of
from app.extensions import db
from app.orders.models import Order, OrderEvent

EVENT = "order-changed"


def payload(order: Order) -> dict:
    """What every order webhook carries about the order."""
    return {"order_id": order.id, "number": order.number, "status": order.status.value,
            "payment_status": order.payment_status.value, "total": str(order.total), "currency": order.currency,
            "source": order.source, "due_date": order.due_date.isoformat() if order.due_date else None}


def order_event(order: Order, *, kind: str, by: User | None, note: str = "", from_status=None, to_status=None,
                line_id: int | None = None, webhook: str | None = None, data: dict | None = None) -> None:
    """Record one order event: timeline row, live signal after commit, outgoing webhook (in this transaction)."""
    db.session.add(OrderEvent(organisation_id=order.organisation_id, order_id=order.id, kind=kind, line_id=line_id,
                              from_status=from_status.value if from_status else None,
                              to_status=to_status.value if to_status else None, actor_id=user_id_of(by),
                              note=(note or "")[:2000]))
    publish_after_commit(order.organisation_id, EVENT, {"order_id": order.id})
    if webhook:
        from app.inbox import webhooks_out  # the inbox owns outgoing webhooks

        db.session.flush()
        webhooks_out.dispatch(order.organisation_id, webhook, {**payload(order), **(data or {})})
