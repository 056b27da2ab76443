"""Plain values between the providers' modules and the services."""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from app.inbox.statuses import ReplyStatus


class BadPayload(ValueError):
    """The provider's request is signed but not what its protocol says (HTTP 400); `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SendFailed(Exception):
    """The provider did not take the message. `retryable`: it said so for now (down, busy, unreachable)."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.message, self.retryable = message, retryable


@dataclass
class Inbound:
    """One message a customer sent, as the provider delivered it."""

    sender: str
    body: str = ""
    external_id: str | None = None
    sender_name: str = ""
    subject: str = ""
    attachments: list[dict] = field(default_factory=list)


@dataclass
class StatusReport:
    """The provider's word on a message we sent."""

    status: ReplyStatus
    external_id: str | None = None
    message_id: int | None = None
    error: str = ""


@dataclass(frozen=True)
class ChannelConf:
    """A channel's plain values, read before a network call so no transaction is held during it."""

    id: int
    org_id: int
    kind: str
    provider: str
    name: str
    address: str
    hook_url: str
    settings: dict
    secrets: dict

    def setting(self, name: str, default: str = "") -> str:
        value = self.settings.get(name)
        return default if value in (None, "") else str(value)

    def secret(self, name: str) -> str:
        return str(self.secrets.get(name) or "")


@dataclass(frozen=True)
class Outgoing:
    org_id: int
    message_id: int | None
    kind: str
    recipient: str
    body: str
    subject: str = ""
    in_reply_to: str = ""  # the customer's Message-ID (e-mail threading)
    template: dict | None = None  # a WhatsApp template: {"name", "language", "params"}


@dataclass(frozen=True)
class Sent:
    external_id: str | None
    status: ReplyStatus = ReplyStatus.SENT


def same(expected: str, given: str | bytes | None) -> bool:
    """Constant-time comparison on bytes: a header with any byte in it is a mismatch, never an error."""
    if not expected or not given:
        return False
    if isinstance(given, str):
        given = given.strip().encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode("utf-8"), given.strip())


def text(value, name: str, *, limit: int = 20_000, required: bool = False) -> str:
    """A string field of a provider's payload; BadPayload for any other type."""
    if value is None or value == "":
        if required:
            raise BadPayload(f"{name} is missing")
        return ""
    if not isinstance(value, str):
        raise BadPayload(f"{name} must be a string, not {type(value).__name__}")
    return value[:limit]


def listing(value, name: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadPayload(f"{name} must be a list, not {type(value).__name__}")
    return value


def mapping(value, name: str, *, required: bool = False) -> dict:
    if value is None:
        if required:
            raise BadPayload(f"{name} is missing")
        return {}
    if not isinstance(value, dict):
        raise BadPayload(f"{name} must be an object, not {type(value).__name__}")
    return value
