"""Twilio (SMS and WhatsApp): X-Twilio-Signature, the inbound message and status callback forms, and
the Messages API for replies.

The signature is HMAC-SHA1, keyed with the account's Auth Token, over the full URL Twilio called
followed by every POST parameter name and value, sorted by name; base64. Twilio's own validators
also accept the URL with the default port added or removed, and so do we.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from app.core import http
from app.inbox.channels.base import BadPayload, ChannelConf, Inbound, Outgoing, SendFailed, Sent, StatusReport, same, text
from app.inbox.statuses import ReplyStatus

MAX_MEDIA = 10
# Twilio's MessageStatus values, as the honest delivery state they mean.
STATUSES = {"accepted": ReplyStatus.QUEUED, "queued": ReplyStatus.QUEUED, "sending": ReplyStatus.QUEUED,
            "scheduled": ReplyStatus.QUEUED, "sent": ReplyStatus.SENT, "delivered": ReplyStatus.DELIVERED,
            "read": ReplyStatus.READ, "undelivered": ReplyStatus.FAILED, "failed": ReplyStatus.FAILED,
            "canceled": ReplyStatus.FAILED}


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The X-Twilio-Signature Twilio sends for this URL and these POST parameters."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _port_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    without = urlunsplit(parts._replace(netloc=host))
    with_port = urlunsplit(parts._replace(netloc=f"{host}:{parts.port or default}"))
    return list(dict.fromkeys([url, without, with_port]))


def signature_valid(auth_token: str, urls: Iterable[str], params: list[tuple[str, str]],
                    header: str | bytes | None) -> bool:
    """True when the header is Twilio's signature of one of the URLs the provider may have called."""
    if not auth_token or not header:
        return False
    return any(same(signature(auth_token, variant, params), header)
               for url in urls if url for variant in _port_variants(url))


def _media(form) -> list[dict]:
    try:
        count = int(text(form.get("NumMedia"), "NumMedia", limit=3) or 0)
    except ValueError:
        raise BadPayload("NumMedia must be a number") from None
    return [{"url": text(form.get(f"MediaUrl{i}"), f"MediaUrl{i}", limit=1000, required=True),
             "content_type": text(form.get(f"MediaContentType{i}"), f"MediaContentType{i}", limit=100)}
            for i in range(min(max(count, 0), MAX_MEDIA))]


def inbound(form) -> Inbound:
    """The customer's message in Twilio's inbound form (From, Body, MessageSid, NumMedia, MediaUrlN…)."""
    return Inbound(sender=text(form.get("From"), "From", limit=254, required=True),
                   body=text(form.get("Body"), "Body"),
                   external_id=text(form.get("MessageSid") or form.get("SmsSid"), "MessageSid", limit=120,
                                    required=True),
                   sender_name=text(form.get("ProfileName"), "ProfileName", limit=200),
                   attachments=_media(form))


def status_report(form, message_id: int | None) -> StatusReport:
    """A status callback: MessageSid, MessageStatus and, when it failed, ErrorCode."""
    raw = text(form.get("MessageStatus") or form.get("SmsStatus"), "MessageStatus", limit=30, required=True)
    if raw not in STATUSES:
        raise BadPayload(f"MessageStatus {raw!r} is not one of Twilio's")
    code = text(form.get("ErrorCode"), "ErrorCode", limit=10)
    status = STATUSES[raw]
    error = f"Twilio: {raw}" + (f", error {code} (https://www.twilio.com/docs/api/errors/{code})" if code else "")
    return StatusReport(status=status, external_id=text(form.get("MessageSid"), "MessageSid", limit=120,
                                                        required=True),
                        message_id=message_id, error=error if status == ReplyStatus.FAILED else "")


def _address(conf: ChannelConf, number: str) -> str:
    return f"whatsapp:{number}" if conf.kind == "whatsapp" and not number.startswith("whatsapp:") else number


def send(conf: ChannelConf, out: Outgoing, *, api_url: str, status_url: str, timeout: float) -> Sent:
    """Post the message to the Messages API; Sent with Twilio's SID, or SendFailed in Twilio's words."""
    sid = conf.setting("account_sid")
    url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    form = {"To": _address(conf, out.recipient), "From": _address(conf, conf.address), "Body": out.body}
    if status_url:
        form["StatusCallback"] = status_url
    try:
        answer = http.request("POST", url, form=form, auth=(sid, conf.secret("auth_token")), timeout=timeout,
                              max_bytes=65536, truncate=True)
    except http.HttpFailure as exc:
        # Nothing came back: Twilio may or may not have the message; only an unopened connection is safe to redo.
        raise SendFailed(f"Twilio could not be reached ({exc.reason})", retryable=exc.retryable) from None
    data = _json(answer.body)
    if answer.status >= 300:
        words = data.get("message") or answer.body.decode("utf-8", "replace")[:200]
        code = f" (error {data['code']})" if data.get("code") else ""
        raise SendFailed(f"Twilio answered HTTP {answer.status}: {words}{code}",
                         retryable=answer.status in http.RETRY_STATUSES)
    return Sent(external_id=str(data.get("sid") or "")[:120] or None)


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
