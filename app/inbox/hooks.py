"""Inbound webhooks, one address per organisation: /hooks/<token>/{sms,whatsapp,json,email}.

They authenticate by signature, not by login (so no CSRF token): Twilio's X-Twilio-Signature
for SMS and WhatsApp, our X-Stockroom-Signature (HMAC-SHA256 of the raw body) for JSON and
e-mail. Nothing is read from the body or stored before the signature checks out.
"""
from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, jsonify, request
from flask_limiter.util import get_remote_address

from app.core.errors import InvalidInput
from app.extensions import csrf, limiter
from app.inbox import services, signatures
from app.inbox.models import Channel

bp = Blueprint("inbox_hooks", __name__, url_prefix="/hooks")
csrf.exempt(bp)
TWIML_OK = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _hook_key() -> str:
    token = (request.view_args or {}).get("token", "")[:64]
    return f"{current_app.config['REDIS_NAMESPACE']}:inbox-hook:{token}:{get_remote_address()}"


def _limit() -> str:
    return current_app.config["INBOX_HOOK_LIMIT"]


def _config(token: str):
    config = services.config_by_token(token)
    if config is None:
        abort(404)
    return config


def _twilio(token: str, channel: Channel):
    config = _config(token)
    params = list(request.form.items(multi=True))
    if not signatures.twilio_valid(config.twilio_auth_token, request.url, params,
                                   request.headers.get("X-Twilio-Signature")):
        abort(403)
    form = request.form
    media = [{"url": form.get(f"MediaUrl{i}", ""), "content_type": form.get(f"MediaContentType{i}", "")}
             for i in range(min(_int(form.get("NumMedia")), 10))]
    try:
        services.message_receive(org_id=config.organisation_id, channel=channel, sender=form.get("From", ""),
                                 body=form.get("Body", ""), external_id=form.get("MessageSid") or form.get("SmsSid"),
                                 sender_name=form.get("ProfileName", ""), attachments=media)
    except InvalidInput as exc:
        return exc.message, 400
    return TWIML_OK, 200, {"Content-Type": "text/xml"}


def _int(value) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


@bp.post("/<token>/sms")
@limiter.limit(_limit, key_func=_hook_key)
def sms(token: str):
    return _twilio(token, Channel.SMS)


@bp.post("/<token>/whatsapp")
@limiter.limit(_limit, key_func=_hook_key)
def whatsapp(token: str):
    return _twilio(token, Channel.WHATSAPP)


@bp.post("/<token>/json")
@limiter.limit(_limit, key_func=_hook_key)
def json_hook(token: str):
    config = _config(token)
    raw = request.get_data(cache=True)
    if not signatures.hmac_valid(config.json_secret, raw, request.headers.get(signatures.SIGNATURE_HEADER)):
        abort(403)
    try:
        data = json.loads(raw)
        channel = Channel(str(data.get("channel") or "sms"))
        attachments = [a for a in data.get("attachments") or [] if isinstance(a, dict)][:10]
    except (ValueError, AttributeError):
        return jsonify(error="Send a JSON object with from, text, id and channel (sms, whatsapp or email)."), 400
    try:
        message, new = services.message_receive(
            org_id=config.organisation_id, channel=channel, sender=str(data.get("from") or ""),
            body=str(data.get("text") or ""), external_id=str(data.get("id") or "") or None,
            subject=str(data.get("subject") or ""), sender_name=str(data.get("name") or ""), attachments=attachments)
    except InvalidInput as exc:
        return jsonify(error=exc.message), 400
    return jsonify(message_id=message.id, duplicate=not new), 200 if not new else 201


@bp.post("/<token>/email")
@limiter.limit(_limit, key_func=_hook_key)
def email(token: str):
    config = _config(token)
    raw = request.get_data(cache=True)
    if not signatures.hmac_valid(config.email_secret, raw, request.headers.get(signatures.SIGNATURE_HEADER)):
        abort(403)
    form = request.form
    try:
        message, new = services.message_receive(
            org_id=config.organisation_id, channel=Channel.EMAIL, sender=form.get("from", ""),
            body=form.get("text", ""), subject=form.get("subject", ""),
            external_id=form.get("message_id") or form.get("Message-Id"), sender_name=_display_name(form.get("from")))
    except InvalidInput as exc:
        return jsonify(error=exc.message), 400
    return jsonify(message_id=message.id, duplicate=not new), 200 if not new else 201


def _display_name(value: str | None) -> str:
    """'Ann Smith <ann@example.com>' -> 'Ann Smith'."""
    value = (value or "").strip()
    return value.split("<", 1)[0].strip().strip('"') if "<" in value else ""
