"""Inbox jobs: given ids, idempotent, thin over the services."""
from __future__ import annotations

from app.inbox import review, webhooks_out


def extract_message(message_id: int) -> None:
    review.extraction_run(message_id=message_id)


def deliver_webhook(delivery_id: int) -> None:
    webhooks_out.delivery_attempt(delivery_id=delivery_id)
