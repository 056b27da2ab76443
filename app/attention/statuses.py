"""Statuses of alert deliveries (see app.core.statuses), and how a person can hear of an item."""
from __future__ import annotations

from app.core.statuses import StatusEnum, define


class DeliveryStatus(StatusEnum):
    PENDING = "pending"
    RETRYING = "retrying"  # the channel failed; the next try is at next_attempt_at
    SENT = "sent"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS


D = DeliveryStatus
define(D, moves={D.PENDING: {D.SENT, D.RETRYING, D.FAILED}, D.RETRYING: {D.SENT, D.RETRYING, D.FAILED},
                 D.SENT: set(), D.FAILED: set()},
       groups={"open": {D.PENDING, D.RETRYING}})

# How a person hears of a kind of item on one channel.
MODES = {"now": "At once", "digest": "Daily digest", "off": "Off"}
CHANNELS = {"app": "In the app", "email": "E-mail", "webhook": "Webhook"}
DEFAULT_MODES = {"app": "now", "email": "digest", "webhook": "off"}
