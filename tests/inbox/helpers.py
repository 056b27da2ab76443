"""Catalogue rows with stock, the organisation's channel secrets, and signed webhook posts."""
from __future__ import annotations

import json

from app.inbox import services
from app.inbox.signatures import SIGNATURE_HEADER, hmac_sha256, twilio_signature
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


def post_twilio(client, config, channel_name: str, params: dict, *, token: str | None = None):
    url = f"http://localhost/hooks/{config.hook_token}/{channel_name}"
    signature = twilio_signature(token if token is not None else config.twilio_auth_token, url, params.items())
    return client.post(url, data=params, csrf=False, headers={"X-Twilio-Signature": signature})
