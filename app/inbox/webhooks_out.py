"""Outgoing webhooks: an organisation's URLs are told about events, signed, retried with backoff.

A delivery is tried by a job; a failure schedules the next try after BASE * 2^(attempt-1)
seconds, up to MAX_ATTEMPTS. An endpoint that fails MAX_CONSECUTIVE_FAILURES deliveries in a
row is switched off (an admin switches it back on).
"""
from __future__ import annotations

import json
import secrets
from datetime import timedelta
from urllib.parse import urlparse

from flask import current_app
from sqlalchemy import select

from app.core import audit
from app.core.errors import InvalidInput, NotFound
from app.core.models import User, user_id_of, utcnow
from app.core.queue import enqueue, enqueue_after_commit, get_queue
from app.extensions import db
from app.inbox.http import HTTPFailure, post
from app.inbox.review_models import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint
from app.inbox.signatures import SIGNATURE_HEADER, hmac_sha256

MAX_ATTEMPTS = 5
MAX_CONSECUTIVE_FAILURES = 5
TIMEOUT_SECONDS = 5


def _base_seconds() -> float:
    return float(current_app.config["WEBHOOK_RETRY_BASE_SECONDS"])


def endpoint_create(*, org_id: int, url: str, events: list[str], by: User | None) -> tuple[WebhookEndpoint, str]:
    """Register a URL for events; returns the endpoint and its signing secret (shown once)."""
    url = (url or "").strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 500:
        raise InvalidInput("Enter an http:// or https:// URL.", field="url")
    chosen = [e for e in WEBHOOK_EVENTS if e in (events or [])]
    if not chosen:
        raise InvalidInput("Choose at least one event.", field="events")
    secret = secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(organisation_id=org_id, url=url, events=chosen, secret=secret, active=True,
                               failure_count=0)
    db.session.add(endpoint)
    db.session.flush()
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="webhook.create", object_type="webhook_endpoint",
                 object_id=endpoint.id, after={"url": url, "events": chosen})
    db.session.commit()
    return endpoint, secret


def _endpoint(org_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.organisation_id != org_id:
        raise NotFound("No such webhook in your organisation.")
    return endpoint


def endpoint_set_active(*, org_id: int, endpoint_id: int, active: bool, by: User | None) -> WebhookEndpoint:
    """Switch an endpoint off or back on (which clears its failure count)."""
    endpoint = _endpoint(org_id, endpoint_id)
    endpoint.active = active
    if active:
        endpoint.failure_count, endpoint.disabled_reason = 0, ""
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="webhook.enable" if active else "webhook.disable",
                 object_type="webhook_endpoint", object_id=endpoint.id)
    db.session.commit()
    return endpoint


def endpoint_delete(*, org_id: int, endpoint_id: int, by: User | None) -> None:
    """Remove an endpoint and its delivery log."""
    endpoint = _endpoint(org_id, endpoint_id)
    db.session.query(WebhookDelivery).filter_by(endpoint_id=endpoint.id).delete()
    db.session.delete(endpoint)
    audit.record(org_id=org_id, actor_id=user_id_of(by), action="webhook.delete", object_type="webhook_endpoint",
                 object_id=endpoint_id, before={"url": endpoint.url})
    db.session.commit()


def dispatch(org_id: int, event: str, data: dict) -> int:
    """Queue a delivery of `event` to every active endpoint that wants it (in the caller's transaction)."""
    endpoints = db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == org_id,
                                                                 WebhookEndpoint.active.is_(True))).all()
    count = 0
    for endpoint in endpoints:
        if event not in (endpoint.events or []):
            continue
        delivery = WebhookDelivery(organisation_id=org_id, endpoint_id=endpoint.id, event=event, status="pending",
                                   attempts=0, payload={"event": event, "data": data})
        db.session.add(delivery)
        db.session.flush()
        delivery.payload = {**delivery.payload, "delivery_id": delivery.id}
        enqueue_after_commit(_deliver_job(), delivery.id, org_id=org_id, queue="low")
        count += 1
    return count


def _post(url: str, secret: str, event: str, delivery_id: int, payload: dict) -> tuple[int | None, str]:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: hmac_sha256(secret, body),
               "X-Stockroom-Event": event, "X-Stockroom-Delivery": str(delivery_id)}
    try:
        status, text = post(url, body=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except HTTPFailure as exc:
        return None, f"Could not connect: {exc}"[:500]
    if 200 <= status < 300:
        return status, ""
    return status, f"HTTP {status}: {text[:200]}"


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Try one delivery now; on failure schedule the next try or give up."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status in ("delivered", "failed"):
        return delivery
    endpoint = delivery.endpoint
    if not endpoint.active:
        delivery.status, delivery.error = "failed", "The endpoint is switched off."
        db.session.commit()
        return delivery
    call = (endpoint.url, endpoint.secret, delivery.event, delivery.id, dict(delivery.payload))
    db.session.commit()  # no transaction (nor SQLite's write lock) held during the network call
    code, error = _post(*call)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    endpoint = delivery.endpoint
    delivery.attempts += 1
    delivery.response_code = code
    delivery.error = error
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", utcnow(), None
        endpoint.failure_count = 0
        db.session.commit()
        return delivery
    endpoint.failure_count += 1
    if endpoint.failure_count >= MAX_CONSECUTIVE_FAILURES:
        endpoint.active = False
        endpoint.disabled_reason = f"Switched off after {endpoint.failure_count} failed deliveries in a row ({error})."
    if delivery.attempts >= MAX_ATTEMPTS or not endpoint.active:
        delivery.status, delivery.next_attempt_at = "failed", None
        db.session.commit()
        return delivery
    delay = _base_seconds() * 2 ** (delivery.attempts - 1)
    delivery.status, delivery.next_attempt_at = "retrying", utcnow() + timedelta(seconds=delay)
    org_id = delivery.organisation_id
    db.session.commit()
    _schedule(delivery_id, org_id, delay)
    return delivery


def _schedule(delivery_id: int, org_id: int, delay: float) -> None:
    if delay <= 0:
        enqueue(_deliver_job(), delivery_id, org_id=org_id, queue="low")
    else:
        get_queue("low").enqueue_in(timedelta(seconds=delay), _deliver_job(), delivery_id,
                                    meta={"organisation_id": org_id})


def deliveries_due(limit: int = 500) -> list[int]:
    """Deliveries whose retry time has passed (a sweeper re-enqueues them if a scheduled job was lost)."""
    return list(db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status.in_(("pending", "retrying")), WebhookDelivery.next_attempt_at <= utcnow())
        .limit(limit)))


def _deliver_job():
    """The delivery job function (the tasks module imports this one, so it is looked up late)."""
    from app.inbox.tasks import deliver_webhook

    return deliver_webhook
