"""Our own webhook signature: X-Stockroom-Signature, HMAC-SHA256 of the raw body.

Providers' own schemes live with each provider (app.inbox.channels.twilio)."""
from __future__ import annotations

import hashlib
import hmac

from app.inbox.channels.base import same

SIGNATURE_HEADER = "X-Stockroom-Signature"


def hmac_sha256(secret: str, body: bytes) -> str:
    """The value of our signature header for this body: "sha256=<hex>"."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hmac_valid(secret: str, body: bytes, header: str | bytes | None) -> bool:
    """True when the header signs this body (compared as bytes, in constant time)."""
    return bool(secret) and same(hmac_sha256(secret, body), header)
