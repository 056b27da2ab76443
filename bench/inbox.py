"""Figures for the inbox: reading a labelled set of customer messages, speed, and webhook ingest.

Usage: python bench/inbox.py [--ingest N]   (DATABASE_URL / REDIS_URL for PostgreSQL / a Redis server)

The labelled set (tests/fixtures/inbox/messages.jsonl) is messages written the way customers
write — six languages, typos, nicknames, questions, cancellations, personal data, quoted e-mail
history — against the real jewellery titles (tests/fixtures/inbox/jewellery-catalogue.json).
Each message is read exactly as `flask inbox read --json` reads it. Printed: messages read
exactly right, lines right, messages offered for one click, wrong one-click offers (must be 0),
and the same per confidence band.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TMP = Path(tempfile.mkdtemp(prefix="stockroom-bench-inbox-"))
atexit.register(shutil.rmtree, TMP, True)  # first registered, so it runs after the embedded Redis stops
os.environ.setdefault("STOCKROOM_INSTANCE", str(TMP / "instance"))

from app.analysis.matching import CatalogueEntry  # noqa: E402
from app.inbox import extractor, pii  # noqa: E402
from app.inbox.channels.twilio import signature as twilio_signature  # noqa: E402
from app.inbox.reading import Catalogue  # noqa: E402
from app.inbox.reading.evaluation import Figures, evaluate  # noqa: E402
from app.inbox.signatures import hmac_sha256  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "inbox"
THRESHOLD = 80
PHRASES = ["3 boxes of {}", "please send two {}", "a dozen {}", "2x {}", "{} x4"]


SETS = (("jewellery-catalogue.json", "messages.jsonl"), ("shop-catalogue.json", "shop-messages.jsonl"))


def labelled() -> list[tuple[list[CatalogueEntry], list[dict]]]:
    """(catalogue entries, labelled messages) of each set."""
    out = []
    for catalogue_file, messages_file in SETS:
        entries = extractor.entries_from_json(json.loads((FIXTURES / catalogue_file).read_text(encoding="utf-8")))
        labels = [json.loads(line) for line in (FIXTURES / messages_file).read_text(encoding="utf-8").splitlines()
                  if line.strip()]
        out.append((entries, labels))
    return out


def reader(entries: list[CatalogueEntry], timings: list[float]):
    catalogue = Catalogue(entries)
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)

    def read(text: str) -> dict:
        start = time.perf_counter()
        result = extractor.extract(text, now, entries, THRESHOLD, catalogue=catalogue)
        timings.append(time.perf_counter() - start)
        return extractor.as_json(text, result)
    return read


def report(figures, timings: list[float]) -> None:
    print(f"all labelled messages: {figures.messages}")
    print(f"  read exactly right: {figures.exact}/{figures.messages} ({100 * figures.exact / figures.messages:.0f} %)")
    print(f"  lines right: {figures.lines_right}/{figures.lines_expected} expected "
          f"({figures.lines_read} read in all)")
    print(f"  offered for one click: {figures.one_click}; wrong one-click orders: {figures.wrong_one_click}")
    print("  per confidence band (messages with at least one line):")
    print("    band     messages  exact  one-click  wrong one-click")
    for row in figures.bands():
        print(f"    {row['band']:<8} {row['messages']:>8} {row['exact']:>6} {row['one_click']:>10} "
              f"{row['wrong_one_click']:>16}")
    print(f"  reading: {statistics.median(timings) * 1000:.2f} ms median, "
          f"{sorted(timings)[int(len(timings) * .95)] * 1000:.2f} ms p95 per message")
    if "-v" in sys.argv:
        for o in figures.outcomes:
            if not o.exact:
                print("  MISS", o.label["id"], json.dumps(o.label["text"], ensure_ascii=False)[:110])
                print("       want", o.label["kind"], [(x["sku"], x["quantity"]) for x in o.label["lines"]],
                      "review" if o.label["review"] else "")
                print("       got ", o.answer["kind"], [(x["sku"], x["quantity"]) for x in o.answer["lines"]],
                      "ONE-CLICK" if o.one_click else "review", [p["reason"][:40] for p in o.answer["not_understood"]])


def main() -> None:
    timings: list[float] = []
    figures = Figures()
    for (entries, labels), (catalogue_file, messages_file) in zip(labelled(), SETS):
        part = evaluate(labels, reader(entries, timings))
        print(f"{messages_file} against {catalogue_file}: {part.exact}/{part.messages} read exactly right, "
              f"{part.wrong_one_click} wrong one-click")
        figures.outcomes += part.outcomes
    report(figures, timings)
    text = "Call +44 7700 900123, card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, 3 boxes please " * 4
    start = time.perf_counter()
    for _ in range(2000):
        pii.mask(text)
    print(f"PII find+mask of a {len(text)}-character message: {(time.perf_counter() - start) / 2000 * 1e6:.0f} µs")
    params = [(f"Param{i}", "value" * 3) for i in range(12)]
    start = time.perf_counter()
    for _ in range(20000):
        twilio_signature("token", "https://example.test/hooks/ch/abc/twilio", params)
        hmac_sha256("secret", b"x" * 1024)
    print(f"Twilio + HMAC-SHA256 signature check pair: {(time.perf_counter() - start) / 20000 * 1e6:.1f} µs")
    if "--ingest" in sys.argv:
        ingest(labelled()[0][0], int(sys.argv[sys.argv.index("--ingest") + 1]))


def ingest(entries: list[CatalogueEntry], messages: int) -> None:
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
        for n in range(messages):
            entry = entries[n % len(entries)]
            body = json.dumps({"id": f"b-{n}", "from": f"+1555{n % 50:07d}",
                               "text": PHRASES[n % len(PHRASES)].format(entry.name.lower()) + " by Friday"}).encode()
            response = client.post(f"/hooks/{config.hook_token}/json", data=body, headers={
                "Content-Type": "application/json", "X-Stockroom-Signature": hmac_sha256(config.json_secret, body)})
            assert response.status_code == 201, response.data
        took = time.perf_counter() - started
        print(f"ingest: {messages} signed webhooks in {took:.2f} s = {messages / took:.0f} messages/s "
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
