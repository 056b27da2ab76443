"""Figures for the inbox: extractor accuracy and speed, and signed-webhook ingest through the app.

Usage: python bench/inbox.py [messages]   (DATABASE_URL / REDIS_URL for PostgreSQL / a Redis server)
The catalogue is the real titles of the shared AliExpress jewellery export (one item per
distinct title). Each message is built from a title: the exact title, and the title with its
last word dropped (customers abbreviate), with a quantity phrase in front.
"""
from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TMP = Path(tempfile.mkdtemp(prefix="stockroom-bench-inbox-"))
os.environ.setdefault("STOCKROOM_INSTANCE", str(TMP / "instance"))

from app.analysis.matching import CatalogueEntry  # noqa: E402
from app.inbox import pii  # noqa: E402
from app.inbox.extractor import extract  # noqa: E402
from app.inbox.signatures import hmac_sha256, twilio_signature  # noqa: E402

MESSAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 200
EXPORT = REPO.parent / "shared" / "fixtures" / "aliexpress" / "jewellery-orders-135.json"
PHRASES = ["3 boxes of {}", "please send two {}", "a dozen {}", "2x {}", "{} x4"]


def catalogue() -> list[CatalogueEntry]:
    titles = sorted({row["title"] for row in json.loads(EXPORT.read_text()) if row.get("title")})
    return [CatalogueEntry(key=f"item:{n}", name=t, sku=f"SKU-{n:04d}") for n, t in enumerate(titles, 1)]


def run(entries: list[CatalogueEntry], variant: str) -> dict:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    right = ready = wrong_but_ready = 0
    timings = []
    for n, entry in enumerate(entries):
        words = entry.name.split()
        name = entry.name if variant == "exact title" else " ".join(words[:-1] if len(words) > 2 else words)
        text = PHRASES[n % len(PHRASES)].format(name.lower()) + " by Friday"
        start = time.perf_counter()
        result = extract(text, now, entries)
        timings.append(time.perf_counter() - start)
        line = result.lines[0] if result.lines else None
        right += bool(line and line.entry and line.entry.key == entry.key)
        one_click = result.confidence >= 80 and not result.reasons
        ready += one_click
        wrong_but_ready += one_click and not (line and line.entry and line.entry.key == entry.key)
    return {"variant": variant, "messages": len(entries), "right_item": right, "above_80_no_doubt": ready,
            "wrong_but_ready": wrong_but_ready,
            "ms_median": statistics.median(timings) * 1000, "ms_p95": sorted(timings)[int(len(timings) * .95)] * 1000}


def main() -> None:
    if not EXPORT.exists():
        print(f"no catalogue fixture at {EXPORT.name}; nothing measured")
        return
    entries = catalogue()
    print(f"catalogue: {len(entries)} distinct titles from {EXPORT.name}")
    for variant in ("exact title", "last word dropped"):
        r = run(entries, variant)
        print(f"{r['variant']:>18}: right item {r['right_item']}/{r['messages']}, "
              f"one-click (confidence >= 80, no doubt) {r['above_80_no_doubt']}/{r['messages']} "
              f"of which wrong {r['wrong_but_ready']}, "
              f"extract {r['ms_median']:.2f} ms median, {r['ms_p95']:.2f} ms p95")
    text = "Call +44 7700 900123, card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, 3 boxes please " * 4
    start = time.perf_counter()
    for _ in range(2000):
        pii.mask(text)
    print(f"PII find+mask of a {len(text)}-character message: {(time.perf_counter() - start) / 2000 * 1e6:.0f} µs")
    params = [(f"Param{i}", "value" * 3) for i in range(12)]
    start = time.perf_counter()
    for _ in range(20000):
        twilio_signature("token", "https://example.test/hooks/abc/sms", params)
        hmac_sha256("secret", b"x" * 1024)
    print(f"Twilio + HMAC-SHA256 signature check pair: {(time.perf_counter() - start) / 20000 * 1e6:.1f} µs")
    ingest(entries)


def ingest(entries: list[CatalogueEntry]) -> None:
    """Signed JSON webhooks through the app (test client, one at a time), then the extraction jobs."""
    from app import create_app
    from app.core import redis_server
    from app.core.users import organisation_get_or_create
    from app.core.worker import build_worker
    from app.extensions import db
    from app.inbox import services
    from app.inbox.models import Message
    from app.inbox.review_models import Extraction, ExtractionStatus
    from app.inventory.models import Item

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{TMP / 'bench.db'}"
    if url.startswith("postgres"):
        print("ingest: run against a scratch SQLite file only (set no DATABASE_URL)")
        return
    redis_url = os.environ.get("REDIS_URL") or redis_server.ensure_running(TMP / "redis", stop_at_exit=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "REDIS_NAMESPACE": "bench-inbox",
                      "INBOX_HOOK_LIMIT": "100000 per minute"})
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("app").setLevel(logging.WARNING)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        org_id = organisation_get_or_create("Bench").id
        db.session.add_all([Item(organisation_id=org_id, sku=e.sku, title=e.name, search_text=e.name.lower())
                            for e in entries])
        db.session.commit()
        config, _ = services.channel_config_get_or_create(org_id=org_id)
        client = app.test_client()
        started = time.perf_counter()
        for n in range(MESSAGES):
            entry = entries[n % len(entries)]
            body = json.dumps({"id": f"b-{n}", "from": f"+1555{n % 50:07d}",
                               "text": PHRASES[n % len(PHRASES)].format(entry.name.lower()) + " by Friday"}).encode()
            response = client.post(f"/hooks/{config.hook_token}/json", data=body, headers={
                "Content-Type": "application/json", "X-Stockroom-Signature": hmac_sha256(config.json_secret, body)})
            assert response.status_code == 201, response.data
        took = time.perf_counter() - started
        print(f"ingest: {MESSAGES} signed webhooks in {took:.2f} s = {MESSAGES / took:.0f} messages/s "
              f"(SQLite, one client)")
        db.session.remove()  # the worker's transactions must not wait on ours
        worker = build_worker(app, worker_class_path="app.core.worker.AppSimpleWorker")
        started = time.perf_counter()
        worker.work(burst=True, logging_level="WARNING")
        took = time.perf_counter() - started
        db.session.expire_all()
        done = db.session.query(Extraction).count()
        ready = db.session.query(Extraction).filter(Extraction.status == ExtractionStatus.READY).count()
        print(f"extraction jobs: {done} in {took:.2f} s = {done / took:.0f} jobs/s (one in-process worker); "
              f"{ready} ready for one click; messages stored {db.session.query(Message).count()}")


if __name__ == "__main__":
    main()
