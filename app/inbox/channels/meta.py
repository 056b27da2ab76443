"""WhatsApp Cloud API (Meta) directly: the GET verification handshake, X-Hub-Signature-256, the
`entry[].changes[].value.messages[]` (and `statuses[]`) payload, and replies through the Graph API.

The signature is "sha256=" + hex HMAC-SHA256 of the raw body under the app secret (Meta app ›
Settings › Basic). Media arrive as ids, not URLs; they are kept on the message as attachments
with the id and type.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from app.core import http
from app.inbox.channels.base import (
    BadPayload,
    ChannelConf,
    Inbound,
    Outgoing,
    SendFailed,
    Sent,
    StatusReport,
    listing,
    mapping,
    same,
    text,
)
from app.inbox.statuses import ReplyStatus

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
STATUSES = {"sent": ReplyStatus.SENT, "delivered": ReplyStatus.DELIVERED, "read": ReplyStatus.READ,
            "failed": ReplyStatus.FAILED}
# WhatsApp's customer-service window: free-form replies only this long after the customer's last message.
WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW_CODES = {131047, 470}  # Meta's "re-engagement message" errors
# Meta's template errors, said so that staff know what to change (and where).
TEMPLATE_HINTS = {
    132000: "the number of parameters does not match the template approved at Meta",
    132001: "Meta has no approved template of this name in this language: check the name and language "
            "code on the channel settings page against WhatsApp Manager",
    132005: "the text with its parameters filled in is too long",
    132007: "the text with its parameters filled in breaks WhatsApp's policy",
    132012: "a parameter is not in the format the template expects",
    132015: "the template is paused at Meta (low quality)",
    132016: "the template is disabled at Meta",
}


def signature(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends for this body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(app_secret: str, body: bytes, header: str | bytes | None) -> bool:
    return bool(app_secret) and same(signature(app_secret, body), header)


def handshake(args, verify_token: str) -> str | None:
    """The challenge to echo when Meta's verification request carries our verify token; else None."""
    if args.get("hub.mode") != "subscribe" or not verify_token:
        return None
    if not same(verify_token, args.get("hub.verify_token", "").encode("utf-8", "replace")):
        return None
    return args.get("hub.challenge") or None


def _attachment(message: dict, kind: str) -> dict:
    media = mapping(message.get(kind), f"messages[].{kind}", required=True)
    return {"url": "", "media_id": text(media.get("id"), f"{kind}.id", limit=200, required=True),
            "content_type": text(media.get("mime_type"), f"{kind}.mime_type", limit=100),
            "filename": text(media.get("filename"), f"{kind}.filename", limit=255)}


def _inbound(message: dict, names: dict) -> Inbound:
    message = mapping(message, "messages[]", required=True)
    kind = text(message.get("type"), "messages[].type", limit=30, required=True)
    sender = text(message.get("from"), "messages[].from", limit=40, required=True)
    body, attachments = "", []
    if kind == "text":
        body = text(mapping(message.get("text"), "messages[].text", required=True).get("body"), "text.body")
    elif kind in MEDIA_TYPES:
        attachments.append(_attachment(message, kind))
        body = text(mapping(message.get(kind), kind).get("caption"), f"{kind}.caption")
    else:
        body = f"[{kind} message: not shown here, open WhatsApp to see it]"
    return Inbound(sender="+" + sender.lstrip("+"), body=body, sender_name=names.get(sender, ""),
                   external_id=text(message.get("id"), "messages[].id", limit=120, required=True),
                   attachments=attachments)


def _status(raw: dict) -> StatusReport:
    raw = mapping(raw, "statuses[]", required=True)
    name = text(raw.get("status"), "statuses[].status", limit=20, required=True)
    if name not in STATUSES:
        raise BadPayload(f"status {name!r} is not one of WhatsApp's")
    errors = [mapping(e, "statuses[].errors[]", required=True) for e in listing(raw.get("errors"), "errors")]
    words = "; ".join(f"{e.get('code')} {text(e.get('title'), 'errors[].title', limit=200)}".strip() for e in errors)
    return StatusReport(status=STATUSES[name], external_id=text(raw.get("id"), "statuses[].id", limit=120,
                                                                  required=True),
                        error=f"WhatsApp: {words or name}" if STATUSES[name] == ReplyStatus.FAILED else "")


def parse(raw: bytes) -> tuple[list[Inbound], list[StatusReport]]:
    """Every customer message and every status report in one webhook body; BadPayload when it is not Meta's shape."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadPayload("the body is not JSON") from None
    data = mapping(data, "the body", required=True)
    messages, reports = [], []
    for entry in listing(data.get("entry"), "entry"):
        for change in listing(mapping(entry, "entry[]", required=True).get("changes"), "changes"):
            value = mapping(mapping(change, "changes[]", required=True).get("value"), "value")
            names = {}
            for contact in listing(value.get("contacts"), "contacts"):
                contact = mapping(contact, "contacts[]", required=True)
                profile = mapping(contact.get("profile"), "contacts[].profile")
                names[text(contact.get("wa_id"), "wa_id", limit=40)] = text(profile.get("name"), "profile.name",
                                                                             limit=200)
            messages += [_inbound(m, names) for m in listing(value.get("messages"), "messages")]
            reports += [_status(s) for s in listing(value.get("statuses"), "statuses")]
    return messages, reports


def window_open(last_inbound: datetime | None, now: datetime | None = None) -> tuple[bool, datetime | None]:
    """(open, until): whether a free-form reply may still go out, and until when."""
    if last_inbound is None:
        return False, None
    until = (last_inbound if last_inbound.tzinfo else last_inbound.replace(tzinfo=UTC)) + WINDOW
    return (now or datetime.now(UTC)) < until, until


def template_payload(template: dict) -> dict:
    """Meta's `template` object: name, language code, and the body's parameters as text, in order."""
    payload = {"name": template["name"], "language": {"code": template["language"]}}
    params = template.get("params") or []
    if params:
        payload["components"] = [{"type": "body",
                                  "parameters": [{"type": "text", "text": str(p)} for p in params]}]
    return payload


def send(conf: ChannelConf, out: Outgoing, *, api_url: str, timeout: float) -> Sent:
    """A text message, or a template one when `out.template` is set, through the Graph API's messages
    endpoint; Sent with the wamid, or SendFailed in Meta's words."""
    url = f"{api_url.rstrip('/')}/{conf.setting('phone_number_id')}/messages"
    payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": out.recipient.lstrip("+")}
    if out.template:
        payload.update(type="template", template=template_payload(out.template))
    else:
        payload.update(type="text", text={"preview_url": False, "body": out.body})
    try:
        answer = http.request("POST", url, json=payload, bearer=conf.secret("access_token"), timeout=timeout,
                              max_bytes=65536, truncate=True)
    except http.HttpFailure as exc:
        raise SendFailed(f"WhatsApp could not be reached ({exc.reason})", retryable=exc.retryable) from None
    data = _json(answer.body)
    if answer.status >= 300:
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        code = error.get("code")
        words = error.get("message") or answer.body.decode("utf-8", "replace")[:200]
        details = error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
        if isinstance(details, str) and details and details not in words:
            words += f": {details[:300]}"
        if code in OUTSIDE_WINDOW_CODES:
            words += " (outside the 24-hour window: only an approved template can be sent)"
        elif code in TEMPLATE_HINTS:
            words += f" ({TEMPLATE_HINTS[code]})"
        raise SendFailed(f"WhatsApp answered HTTP {answer.status}: {words}" + (f" (error {code})" if code else ""),
                         retryable=answer.status in http.RETRY_STATUSES)
    ids = [m.get("id") for m in data.get("messages") or [] if isinstance(m, dict)]
    return Sent(external_id=str(ids[0])[:120] if ids else None)


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
