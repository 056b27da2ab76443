"""When alerts are evaluated and digests sent: the workers' upkeep, as for backups (app.backups.schedule).

Every worker runs the lease engine's sweepers in its upkeep every few seconds; `tick` is cheap: a
Redis key lets it act at most once per ALERTS_EVALUATE_SECONDS per installation. It then queues
one evaluation job, sends again deliveries whose scheduled retry was lost, and once the day's
digest moment (ALERTS_DIGEST_HOUR, UTC) has passed queues the digest job until a run finishes
(the digest rows are unique per person, channel and day, so a second run sends nothing twice).
"""
from __future__ import annotations

from flask import current_app

from app.attention import alerts, delivery
from app.core import leases
from app.core.models import utcnow
from app.core.queue import enqueue, get_redis, key


def _digest_done_key(slot: str) -> str:
    return key("alerts", "digest-done", slot)


def tick(*, force: bool = False) -> bool:
    """Queue the evaluation (and the day's digest when due); never keeps the sweep job busy."""
    from app.attention import tasks

    config = current_app.config
    if not config.get("ALERTS_SCHEDULE"):
        return False
    every = max(5, int(config["ALERTS_EVALUATE_SECONDS"]))
    if not force and not get_redis().set(key("alerts", "tick"), "1", nx=True, ex=every):
        return False
    enqueue(tasks.evaluate_alerts, queue="default", timeout=600)
    delivery.resend_lost()
    slot, _ = alerts.digest_slot(utcnow())
    if not get_redis().exists(_digest_done_key(slot)):
        enqueue(tasks.send_digests_for, slot, queue="low", timeout=1800)
    return False


def digest_finished(slot: str) -> None:
    get_redis().set(_digest_done_key(slot), "1", ex=3 * 24 * 3600)


leases.register_sweeper("alerts", tick, every=lambda: float(current_app.config["ALERTS_EVALUATE_SECONDS"]))
