"""Inbound webhooks. They authenticate by signature, not by login (so no CSRF token), and nothing
is read from the body or stored before the signature checks out.

- /hooks/ch/<token>/twilio and /hooks/ch/<token>/twilio/status: one of the organisation's Twilio
  channels (SMS or WhatsApp), signed with X-Twilio-Signature under the account's own Auth Token.
- /hooks/ch/<token>/meta: a WhatsApp Cloud API number, the GET verification handshake (hub.mode,
  hub.verify_token, hub.challenge) and POSTs signed with X-Hub-Signature-256 under the app secret.
- /hooks/ch/<token>/mailgun: Mailgun's inbound routes, signed with timestamp + token (HMAC-SHA256
  under the HTTP webhook signing key); an old timestamp or a token seen before is refused.
- /hooks/ch/<token>/postmark: Postmark's inbound JSON, with the basic-auth user and password the admin
  wrote into the URL given to Postmark.
- /hooks/ch/<token>/rfc822: whole e-mails from a relay of the organisation's own, signed like the JSON relay.
- /hooks/<token>/json: the organisation's own relay, signed with X-Stockroom-Signature
  (HMAC-SHA256 of the raw body).

Signatures are compared as bytes, so a header with any byte in it is a mismatch (403), never an
error. Every field is type-checked (400 with the reason) before anything is written.
"""
from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, jsonify, request
from flask_limiter.util import get_remote_address

from app.core.errors import InvalidInput
from app.extensions import csrf, limiter
from app.inbox import services, signatures
from app.inbox.channels import email_in, meta, twilio
from app.inbox.channels import services as channel_services
from app.inbox.channels.base import BadPayload, listing, mapping, same, text
from app.inbox.channels.models import Provider
from app.inbox.models import Channel

bp = Blueprint("inbox_hooks", __name__, url_prefix="/hooks")
csrf.exempt(bp)
TWIML_OK = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_JSON_DEPTH = 8
MAX_ATTACHMENTS = 10


def _hook_key() -> str:
    token = (request.view_args or {}).get("token", "")[:64]
    return f"{current_app.config['REDIS_NAMESPACE']}:inbox-hook:{token}:{get_remote_address()}"


def _limit() -> str:
    return current_app.config["INBOX_HOOK_LIMIT"]


def _raw_header(name: str) -> bytes | None:
    """The header's bytes as they came (WSGI hands them over as latin-1 text)."""
    value = request.headers.get(name)
    return None if value is None else value.encode("latin-1", "replace")


# --- Twilio ------------------------------------------------------------------------------------

def _twilio_channel(token: str):
    row = channel_services.channel_by_token(token, Provider.TWILIO)
    if row is None:
        abort(404)
    params = list(request.form.items(multi=True))
    # The URL the admin pasted is what Twilio signs; the one we see is tried too (a query string included).
    query = ("?" + request.query_string.decode("latin-1")) if request.query_string else ""
    urls = [row.hook_url + request.path[len(_path(row)):] + query if row.hook_url else "", request.url]
    if not twilio.signature_valid(row.secrets.get("auth_token", ""), urls, params,
                                  _raw_header("X-Twilio-Signature")):
        abort(403)
    return row


def _path(row) -> str:
    """The path part of a channel's inbound address (what follows it differs per hook)."""
    return f"/hooks/ch/{row.hook_token}/twilio"


@bp.post("/ch/<token>/twilio")
@limiter.limit(_limit, key_func=_hook_key)
def twilio_inbound(token: str):
    row = _twilio_channel(token)
    try:
        message = twilio.inbound(request.form)
        channel_services.inbound_receive(channel_id=row.id, message=message)
    except (BadPayload, InvalidInput) as exc:
        return getattr(exc, "reason", None) or exc.message, 400
    return TWIML_OK, 200, {"Content-Type": "text/xml"}


@bp.post("/ch/<token>/twilio/status")
@limiter.limit(_limit, key_func=_hook_key)
def twilio_status(token: str):
    row = _twilio_channel(token)
    raw_id = request.args.get("m", "")
    try:
        report = twilio.status_report(request.form, int(raw_id) if raw_id.isdigit() else None)
    except BadPayload as exc:
        return exc.reason, 400
    found = channel_services.status_apply(channel_id=row.id, report=report)
    # 200 either way: a callback about a message we never sent is not worth Twilio's retries.
    return ("", 204) if found else ("no such message", 200)


# --- WhatsApp Cloud API (Meta) ------------------------------------------------------------------

def _meta_channel(token: str):
    row = channel_services.channel_by_token(token, Provider.META)
    if row is None:
        abort(404)
    return row


@bp.get("/ch/<token>/meta")
@limiter.limit(_limit, key_func=_hook_key)
def meta_handshake(token: str):
    row = _meta_channel(token)
    challenge = meta.handshake(request.args, row.settings.get("verify_token", ""))
    if challenge is None:
        abort(403)
    return challenge, 200, {"Content-Type": "text/plain"}


@bp.post("/ch/<token>/meta")
@limiter.limit(_limit, key_func=_hook_key)
def meta_hook(token: str):
    row = _meta_channel(token)
    raw = request.get_data(cache=True)
    if not meta.signature_valid(row.secrets.get("app_secret", ""), raw, _raw_header("X-Hub-Signature-256")):
        abort(403)
    try:
        messages, reports = meta.parse(raw)
        if _too_deep(json.loads(raw), limit=12):
            raise BadPayload("the JSON is nested deeper than Meta's payloads are")
    except BadPayload as exc:
        return jsonify(error=exc.reason), 400
    # Typed first, stored after: a bad item anywhere in the body stores nothing.
    for message in messages:
        try:
            channel_services.inbound_receive(channel_id=row.id, message=message)
        except InvalidInput as exc:
            return jsonify(error=exc.message), 400
    for report in reports:
        channel_services.status_apply(channel_id=row.id, report=report)
    return jsonify(messages=len(messages), statuses=len(reports)), 200


# --- e-mail in: Mailgun routes and raw RFC 822 ---------------------------------------------------

def _email_channel(token: str, provider: Provider):
    row = channel_services.channel_by_token(token, provider)
    if row is None:
        abort(404)
    return row


def _store_email(row, read, receipt_digest: str | None = None) -> tuple:
    try:
        message, new = channel_services.inbound_receive(channel_id=row.id, message=read(),
                                                        receipt_digest=receipt_digest)
    except (BadPayload, InvalidInput) as exc:
        return jsonify(error=getattr(exc, "reason", None) or exc.message), 400
    return jsonify(message_id=message.id, duplicate=not new), 201 if new else 200


@bp.post("/ch/<token>/mailgun")
@limiter.limit(_limit, key_func=_hook_key)
def mailgun_hook(token: str):
    row = _email_channel(token, Provider.MAILGUN)
    if not email_in.mailgun_valid(row.secrets.get("signing_key", ""), request.form,
                                  max_age=current_app.config["CHANNELS_SIGNATURE_MAX_AGE_SECONDS"]):
        abort(403)
    # Mailgun's token is single-use: a signed post seen again is a replay.
    digest = channel_services.body_digest(b"mailgun:" + request.form["token"].encode())
    if channel_services.replayed_message(org_id=row.organisation_id, digest=digest) is not False:
        return jsonify(duplicate=True), 200
    return _store_email(row, lambda: email_in.mailgun_inbound(request.form, request.files), receipt_digest=digest)


@bp.post("/ch/<token>/postmark")
@limiter.limit(_limit, key_func=_hook_key)
def postmark_hook(token: str):
    row = _email_channel(token, Provider.POSTMARK)
    if not email_in.postmark_authorized(request.authorization, row.settings.get("username", ""),
                                        row.secrets.get("password", "")):
        abort(403)  # Postmark stops retrying on 403
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return jsonify(error="the body is not JSON"), 400
    if _too_deep(data):
        return jsonify(error=f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels"), 400
    return _store_email(row, lambda: email_in.postmark_inbound(data))


@bp.post("/ch/<token>/rfc822")
@limiter.limit(_limit, key_func=_hook_key)
def rfc822_hook(token: str):
    row = _email_channel(token, Provider.RFC822)
    raw = request.get_data(cache=True)
    expected = signatures.hmac_sha256(row.secrets.get("relay_secret", ""), raw)
    if not row.secrets.get("relay_secret") or not same(expected, _raw_header(signatures.SIGNATURE_HEADER)):
        abort(403)
    return _store_email(row, lambda: email_in.rfc822_inbound(raw))


# --- the organisation's own JSON relay ---------------------------------------------------------

def _too_deep(value, limit: int = MAX_JSON_DEPTH) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return False


def _json_fields(raw: bytes) -> dict:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadPayload("the body is not JSON") from None
    if _too_deep(data):
        raise BadPayload(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels")
    data = mapping(data, "the body", required=True)
    try:
        channel = Channel(text(data.get("channel"), "channel", limit=20) or "sms")
    except ValueError:
        raise BadPayload("channel must be sms, whatsapp or email") from None
    raw_id = data.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    attachments = []
    for index, item in enumerate(listing(data.get("attachments"), "attachments")[:MAX_ATTACHMENTS]):
        item = mapping(item, f"attachments[{index}]", required=True)
        attachments.append({"url": text(item.get("url"), f"attachments[{index}].url", limit=1000, required=True),
                            "content_type": text(item.get("content_type"), f"attachments[{index}].content_type",
                                                 limit=100)})
    return {"channel": channel, "sender": text(data.get("from"), "from", limit=254, required=True),
            "body": text(data.get("text"), "text"), "external_id": text(raw_id, "id", limit=120) or None,
            "subject": text(data.get("subject"), "subject", limit=300),
            "sender_name": text(data.get("name"), "name", limit=200), "attachments": attachments}


@bp.post("/<token>/json")
@limiter.limit(_limit, key_func=_hook_key)
def json_hook(token: str):
    config = services.config_by_token(token)
    if config is None:
        abort(404)
    raw = request.get_data(cache=True)
    expected = signatures.hmac_sha256(config.json_secret, raw)
    if not same(expected, _raw_header(signatures.SIGNATURE_HEADER)):
        abort(403)
    try:
        fields = _json_fields(raw)
    except BadPayload as exc:
        return jsonify(error=f"{exc.reason}. Send a JSON object with from, text, id and channel "
                             "(sms, whatsapp or email)."), 400
    org_id = config.organisation_id
    digest = None
    if fields["external_id"] is None:
        # No id to recognise a replay by: the signed body itself is the id, within the replay window.
        digest = channel_services.body_digest(raw)
        earlier = channel_services.replayed_message(org_id=org_id, digest=digest)
        if earlier is not False:
            return jsonify(message_id=earlier.id if earlier else None, duplicate=True), 200
    try:
        message, new = services.message_receive(org_id=org_id, receipt_digest=digest, **fields)
    except InvalidInput as exc:
        return jsonify(error=exc.message), 400
    return jsonify(message_id=message.id, duplicate=not new), 200 if not new else 201
