"""Catalogue rows with stock, the organisation's channels, and signed webhook posts."""
from __future__ import annotations

import json

from app.inbox import services
from app.inbox.channels import services as channel_services
from app.inbox.channels import twilio
from app.inbox.signatures import SIGNATURE_HEADER, hmac_sha256
from app.inventory.services import item_create


def make_catalogue(org_id: int) -> dict:
    """Three priced items with stock, keyed by SKU."""
    rows = [("EAR-100", "Silver Hoop Earrings", 20), ("NEC-200", "Gold Chain Necklace 45cm", 10),
            ("BR-300", "Rose Quartz Bracelet", 5)]
    return {sku: item_create(org_id=org_id, by=None, initial_stock=stock, sku=sku, title=title,
                             price="12.50", currency="EUR") for sku, title, stock in rows}


def channel(org_id: int):
    config, _ = services.channel_config_get_or_create(org_id=org_id)
    return config


def post_json(client, config, payload: dict, *, secret: str | None = None):
    body = json.dumps(payload).encode()
    signature = hmac_sha256(secret if secret is not None else config.json_secret, body)
    return client.post(f"/hooks/{config.hook_token}/json", data=body, csrf=False,
                       headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"})


TWILIO_SID = "AC" + "0123456789abcdef" * 2


def twilio_channel(org_id: int, *, kind: str = "sms", auth_token: str = "twilio-auth-token-0001",
                   number: str = "+15559990000", name: str = "Shop number"):
    """A Twilio channel as an admin would add it, its address on the test client's host."""
    return channel_services.channel_create(
        org_id=org_id, kind=kind, provider="twilio", name=name, address=number,
        settings={"account_sid": TWILIO_SID}, secrets={"auth_token": auth_token},
        hook_url_for=lambda token, provider: f"http://localhost/hooks/ch/{token}/{provider}", by=None)


def post_twilio(client, row, params: dict, *, token: str | None = None, path: str = "", header=None):
    """POST a Twilio form to the channel's address, signed as Twilio signs it (with `token` if given)."""
    url = row.hook_url + path
    signature = twilio.signature(token if token is not None else row.secrets["auth_token"], url, params.items())
    return client.post(url, data=params, csrf=False,
                       headers={"X-Twilio-Signature": header if header is not None else signature})
