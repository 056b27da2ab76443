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
    """An outgoing message, as honestly as the provider tells it."""

    NONE = ""  # an inbound message: nothing is delivered
    QUEUED = "queued"  # waiting for its (next) try; the error of the last try is kept beside it
    SENT = "sent"  # the provider took it
    DELIVERED = "delivered"  # the provider says it reached the phone or mailbox
    READ = "read"  # the provider says it was read (WhatsApp)
    FAILED = "failed"  # with the provider's error; a person can retry
    OUTBOX = "outbox"  # no provider configured: kept in the local outbox, nothing left the machine


R = ReplyStatus
# Providers report out of order (a "delivered" may come before our own "sent" is written, a
# "sent" after "delivered"): a report only ever moves a message forward, never back.
define(R, moves={R.NONE: set(), R.QUEUED: {R.QUEUED, R.SENT, R.DELIVERED, R.READ, R.FAILED, R.OUTBOX},
                 R.SENT: {R.DELIVERED, R.READ, R.FAILED}, R.DELIVERED: {R.READ}, R.READ: set(),
                 R.FAILED: {R.QUEUED, R.SENT, R.DELIVERED, R.READ}, R.OUTBOX: {R.QUEUED}},
       groups={"sent": {R.SENT, R.DELIVERED, R.READ}, "retryable": {R.FAILED, R.OUTBOX}},
       labels={"": "—", "queued": "queued", "sent": "sent to provider", "delivered": "delivered", "read": "read",
               "failed": "failed", "outbox": "kept in outbox: no provider configured"})
REPLY_RANK = {R.QUEUED: 0, R.OUTBOX: 0, R.FAILED: 0, R.SENT: 1, R.DELIVERED: 2, R.READ: 3}


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


class AttachmentStatus(StatusEnum):
    """A file a customer sent: our own checked copy, or why there is none."""

    PENDING = "pending"  # waiting for its (next) download; the error of the last try is kept beside it
    STORED = "stored"  # downloaded, checked by content and stored
    FAILED = "failed"  # the download failed for good (or after the last try); a person can retry
    REFUSED = "refused"  # too large, or not an image or PDF: kept as a link with the reason


A = AttachmentStatus
define(A, moves={A.PENDING: {A.PENDING, A.STORED, A.FAILED, A.REFUSED}, A.STORED: set(), A.FAILED: {A.PENDING},
                 A.REFUSED: set()},
       groups={"retryable": {A.FAILED}},
       labels={"pending": "downloading…", "stored": "stored", "failed": "download failed", "refused": "not stored"})


class HandoffStatus(StatusEnum):
    """An image attachment on its way to the product pipeline."""

    NONE = ""
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"


H = HandoffStatus
define(H, moves={H.NONE: {H.QUEUED}, H.QUEUED: {H.DONE, H.FAILED}, H.DONE: set(), H.FAILED: {H.QUEUED}},
       labels={"": "—", "queued": "sending to the product pipeline…", "done": "in the product pipeline",
               "failed": "not sent to the pipeline"})
