"""E-mail in: Mailgun's inbound routes (form posts signed with timestamp + token), Postmark's inbound
JSON (basic auth written into the URL) and raw RFC 822 messages from a relay of the organisation's own.

What is read into orders is the customer's new text: the quoted history is dropped with
email-reply-parser (GitHub's rules) and a signature after the "-- " line (RFC 3676) is cut.
Attachments come inside the request: each part's name, declared type and bytes go on the message, to
be checked and stored by a job (app.inbox.channels.attachments).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr

from email_reply_parser import EmailReplyParser

from app.inbox.channels.base import BadPayload, Inbound, listing, mapping, same, text

MAX_ATTACHMENTS = 10


def new_text(body: str) -> str:
    """The part of an e-mail the customer wrote now: no quoted history, no signature."""
    reply = EmailReplyParser.parse_reply(body or "")
    lines = reply.splitlines()
    if "-- " in lines:
        lines = lines[:lines.index("-- ")]
    return "\n".join(lines).strip()


# --- Mailgun ---------------------------------------------------------------------------------------

def mailgun_signature(signing_key: str, timestamp: str, token: str) -> str:
    """Mailgun's signature: hex HMAC-SHA256 of timestamp + token under the HTTP webhook signing key."""
    return hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


def mailgun_valid(signing_key: str, form, *, max_age: int, now: float | None = None) -> bool:
    """True when the form is signed with the key and its timestamp is recent (a replayed old post is refused)."""
    timestamp, token = form.get("timestamp", ""), form.get("token", "")
    if not signing_key or not timestamp.isdigit() or not token:
        return False
    if abs((now or time.time()) - int(timestamp)) > max_age:
        return False
    return same(mailgun_signature(signing_key, timestamp, token), form.get("signature", "").encode("latin-1", "replace"))


def mailgun_inbound(form, files) -> Inbound:
    """A message as Mailgun's `forward()` route posts it (from, subject, body-plain, Message-Id, attachment-N)."""
    sender = text(form.get("from") or form.get("sender"), "from", limit=254, required=True)
    body = text(form.get("body-plain"), "body-plain", limit=200_000)
    attachments = []
    for _, part in list(files.items(multi=True))[:MAX_ATTACHMENTS]:
        content = part.read()
        attachments.append({"filename": (part.filename or "")[:255], "content_type": (part.mimetype or "")[:100],
                            "size": len(content), "content": content})
    return Inbound(sender=sender, sender_name=parseaddr(sender)[0][:200], body=new_text(body),
                   subject=text(form.get("subject"), "subject", limit=300),
                   external_id=text(form.get("Message-Id"), "Message-Id", limit=120) or None,
                   attachments=attachments)


# --- raw RFC 822 -----------------------------------------------------------------------------------

def rfc822_inbound(raw: bytes) -> Inbound:
    """A whole e-mail as it came over SMTP: its sender, subject, Message-ID, text and attachments."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        sender = str(message.get("From") or "")
        subject = str(message.get("Subject") or "")
        message_id = str(message.get("Message-ID") or "").strip()
        part = message.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        attachments = []
        for part in list(message.iter_attachments())[:MAX_ATTACHMENTS]:
            content = part.get_payload(decode=True) or b""
            attachments.append({"filename": (part.get_filename() or "")[:255],
                                "content_type": part.get_content_type()[:100], "size": len(content),
                                "content": content})
    except (ValueError, LookupError, TypeError, AttributeError) as exc:
        raise BadPayload(f"the body is not an e-mail message ({exc.__class__.__name__})") from None
    if not parseaddr(sender)[1]:
        raise BadPayload("the message has no From address")
    return Inbound(sender=sender[:254], sender_name=parseaddr(sender)[0][:200], subject=subject[:300],
                   body=new_text(body), external_id=message_id[:120] or None, attachments=attachments)


# --- Postmark --------------------------------------------------------------------------------------

def postmark_authorized(authorization, username: str, password: str) -> bool:
    """True when the request carries the basic-auth user and password written into the URL given to Postmark."""
    if authorization is None or authorization.type != "basic" or not username or not password:
        return False
    given_user = (authorization.username or "").encode("utf-8", "replace")
    given_password = (authorization.password or "").encode("utf-8", "replace")
    return same(username, given_user) & same(password, given_password)


def _base64(value, index: int) -> bytes | None:
    """An attachment's Content (base64, as Postmark sends it); None when Postmark sent none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadPayload(f"Attachments[{index}].Content must be a base64 string")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise BadPayload(f"Attachments[{index}].Content is not base64") from None


def postmark_inbound(data) -> Inbound:
    """A message in Postmark's inbound JSON (FromFull, Subject, MessageID, TextBody, StrippedTextReply, Attachments)."""
    data = mapping(data, "the body", required=True)
    sender = mapping(data.get("FromFull"), "FromFull")
    address = text(sender.get("Email"), "FromFull.Email", limit=254) or text(data.get("From"), "From", limit=254,
                                                                                 required=True)
    attachments = []
    for index, item in enumerate(listing(data.get("Attachments"), "Attachments")[:MAX_ATTACHMENTS]):
        item = mapping(item, f"Attachments[{index}]", required=True)
        size = item.get("ContentLength")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
            raise BadPayload(f"Attachments[{index}].ContentLength must be a number")
        content = _base64(item.get("Content"), index)
        attachments.append({"filename": text(item.get("Name"), "Attachments[].Name", limit=255),
                            "content_type": text(item.get("ContentType"), "Attachments[].ContentType", limit=100),
                            "size": len(content) if content is not None else size, "content": content})
    stripped = text(data.get("StrippedTextReply"), "StrippedTextReply", limit=200_000)
    body = stripped.strip() or new_text(text(data.get("TextBody"), "TextBody", limit=200_000))
    return Inbound(sender=address, body=new_text(body),
                   sender_name=text(sender.get("Name") or data.get("FromName"), "FromName", limit=200),
                   subject=text(data.get("Subject"), "Subject", limit=300),
                   external_id=text(data.get("MessageID"), "MessageID", limit=120) or None, attachments=attachments)
