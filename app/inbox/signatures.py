"""Webhook signatures: Twilio's X-Twilio-Signature and our own HMAC-SHA256 header."""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

SIGNATURE_HEADER = "X-Stockroom-Signature"


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's scheme: HMAC-SHA1 over the full URL plus every POST name+value sorted by name, base64."""
    data = url + "".join(f"{k}{v}" for k, v in sorted(params, key=lambda kv: (kv[0], kv[1])))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_valid(auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str | None) -> bool:
    """True when the header matches (constant-time)."""
    if not signature or not auth_token:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, list(params)), signature.strip())


def hmac_sha256(secret: str, body: bytes) -> str:
    """The value of our signature header for this body: "sha256=<hex>"."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hmac_valid(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not secret:
        return False
    return hmac.compare_digest(hmac_sha256(secret, body), header.strip())
