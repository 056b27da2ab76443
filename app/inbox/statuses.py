"""Statuses of the inbox: conversations, extractions and their lines, replies, outgoing webhooks
(see app.core.statuses)."""
from __future__ import annotations

from app.core.statuses import StatusEnum, define


class ConversationStatus(StatusEnum):
    OPEN = "open"
    CLOSED = "closed"


C = ConversationStatus
define(C, moves={C.OPEN: {C.CLOSED}, C.CLOSED: {C.OPEN}})


class ExtractionStatus(StatusEnum):
    READY = "ready"  # nothing in doubt: one click makes the order
    REVIEW = "review"  # somebody has to look
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


E = ExtractionStatus
define(E, moves={E.READY: {E.REVIEW, E.CONFIRMED, E.REJECTED}, E.REVIEW: {E.READY, E.CONFIRMED, E.REJECTED},
                 E.CONFIRMED: set(), E.REJECTED: set()},
       groups={"open": {E.READY, E.REVIEW}},
       labels={"review": "Needs review", "confirmed": "Order created"})
OPEN_EXTRACTION = (E.READY, E.REVIEW)


class LineStatus(StatusEnum):
    MATCHED = "matched"  # read and matched to a catalogue item
    UNMATCHED = "unmatched"  # read, but no item named
    SUGGESTED = "suggested"  # from the customer's last order ("the usual"), for a person to check
    CORRECTED = "corrected"  # set or changed by a person
    REMOVED = "removed"


L = LineStatus
define(L, moves={L.MATCHED: {L.CORRECTED, L.REMOVED}, L.UNMATCHED: {L.CORRECTED, L.REMOVED},
                 L.SUGGESTED: {L.CORRECTED, L.REMOVED}, L.CORRECTED: {L.CORRECTED, L.REMOVED}, L.REMOVED: set()})


class ReplyStatus(StatusEnum):
    NONE = ""  # an inbound message: nothing is delivered
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


R = ReplyStatus
define(R, moves={R.NONE: set(), R.QUEUED: {R.SENT, R.FAILED}, R.SENT: set(), R.FAILED: {R.QUEUED, R.SENT, R.FAILED}},
       labels={"": "—"})


class DeliveryStatus(StatusEnum):
    """An outgoing webhook delivery."""

    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"


D = DeliveryStatus
define(D, moves={D.PENDING: {D.DELIVERED, D.RETRYING, D.FAILED}, D.RETRYING: {D.DELIVERED, D.RETRYING, D.FAILED},
                 D.DELIVERED: set(), D.FAILED: set()},
       groups={"due": {D.PENDING, D.RETRYING}},
       labels={s.value: s.value for s in D})
