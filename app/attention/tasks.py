"""Attention jobs: thin, idempotent, given ids (or nothing: they look at the database)."""
from __future__ import annotations

from app.attention import alerts, delivery


def evaluate_alerts() -> dict:
    """Switch every organisation's alert conditions on and off; alert on those that came on."""
    return alerts.evaluate_all()


def deliver(delivery_id: int) -> None:
    delivery.delivery_attempt(delivery_id=delivery_id)


def send_digests_for(slot: str) -> int:
    """The digest of `slot` (a day): sent once per person and channel, however often this runs."""
    from app.attention.schedule import digest_finished

    sent = alerts.digest_run(slot=slot)
    digest_finished(slot)
    return sent
