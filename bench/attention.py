"""The to-do queue with many open items: what the top-bar count, the /todo page and one alert
evaluation cost, against the dashboard's low-stock card measured in the same run (figures, not
assertions).

A scratch database gets PRODUCTS products in review and ITEMS stock items, a third of them at or
below their reorder point. The count is measured cold (every request counts afresh, as after
each live event) and warm (tabs re-counting without a change in between share one count).

    python bench/attention.py [products=5000] [items=30000] [rounds=30]
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="stockroom-bench-attention-"))
atexit.register(shutil.rmtree, TMP, True)  # first registered, so it runs after the embedded Redis stops
os.environ["STOCKROOM_INSTANCE"] = str(TMP / "instance")

from scratch import scratch_database  # noqa: E402  (bench/scratch.py)
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.attention import alerts, selectors  # noqa: E402
from app.core import redis_server  # noqa: E402
from app.core.models import Role, utcnow  # noqa: E402
from app.core.users import organisation_get_or_create, user_create  # noqa: E402
from app.extensions import db  # noqa: E402
from app.inventory.models import Item  # noqa: E402
from app.pipeline.models import Product, ProductStatus  # noqa: E402

PRODUCTS = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
ITEMS = int(sys.argv[2]) if len(sys.argv) > 2 else 30_000
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 30
PASSWORD = "bench-password-123"


def seed(org_id: int) -> None:
    now = utcnow()
    products = [{"organisation_id": org_id, "status": ProductStatus.NEEDS_REVIEW, "hint_name": f"Box {n}",
                 "created_at": now, "updated_at": now} for n in range(PRODUCTS)]
    items = [{"organisation_id": org_id, "sku": f"AT-{n:06d}", "title": f"Item {n}", "search_text": f"at-{n:06d}",
              "attributes": {}, "reorder_point": 5, "on_hand": 2 if n % 3 == 0 else 50, "reserved": 0,
              "discontinued": False, "created_at": now, "updated_at": now} for n in range(ITEMS)]
    for rows, model in ((products, Product), (items, Item)):
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(model), rows[start:start + 5000])
    db.session.commit()


def timed(fn, rounds: int = ROUNDS) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def line(label: str, times: list[float], anchor: float | None = None) -> str:
    median = statistics.median(times)
    ratio = f"   {median / anchor:5.1f}× the anchor" if anchor else ""
    return f"  {label:44} median {median:7.1f} ms   max {max(times):7.1f} ms{ratio}"


def main() -> None:
    url, drop = scratch_database(TMP, "stockroom_bench_att")
    redis_url = os.environ.get("REDIS_URL") or redis_server.ensure_running(TMP / "redis", stop_at_exit=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "WTF_CSRF_ENABLED": False,
                      "REDIS_NAMESPACE": "bench-attention-" + uuid.uuid4().hex[:6], "RATELIMIT_ENABLED": False})
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(revision="heads")
            org = organisation_get_or_create("Bench")
            user = user_create(org_id=org.id, email="bench@bench.test", password=PASSWORD, role=Role.MANAGER)
            org_id, email = org.id, user.email
            seed(org_id)
            started = time.perf_counter()
            first = alerts.evaluate(org_id=org_id, lock=False)
            first_ms = (time.perf_counter() - started) * 1000
            steady = timed(lambda: alerts.evaluate(org_id=org_id, lock=False), rounds=5)
            db.session.remove()
        client = app.test_client()
        client.post("/login", data={"email": email, "password": PASSWORD})
        htmx = {"HX-Request": "true"}

        def cold_count():
            with app.app_context():
                selectors.forget_counts(org_id)
            client.get("/todo/count", headers=htmx)

        for path in ("/dashboard/cards/inventory-low-stock", "/todo/count", "/todo"):  # warm-up
            client.get(path, headers=htmx)
        anchor = timed(lambda: client.get("/dashboard/cards/inventory-low-stock", headers=htmx))
        cold = timed(cold_count)
        warm = timed(lambda: client.get("/todo/count", headers=htmx))
        page = timed(lambda: client.get("/todo"))
        low = timed(lambda: client.get("/todo?kind=low_stock&page=100", headers=htmx))
        print(f"database: {make_url(url).get_backend_name()}; {PRODUCTS} products in review, {ITEMS} items "
              f"({ITEMS // 3 + (1 if ITEMS % 3 else 0)} at or below their reorder point)")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"machine load average while measuring: {load:.1f} on {os.cpu_count()} CPUs")
        base = statistics.median(anchor)
        print(line("anchor: dashboard low-stock card", anchor))
        for label, times in (("top-bar count, counted afresh", cold), ("top-bar count, shared by open tabs", warm),
                             ("/todo, every kind", page), ("/todo low stock, page 100 (HTMX)", low)):
            print(line(label, times, base))
        print(f"  first alert evaluation: {len(first)} conditions started in {first_ms:.0f} ms; "
              f"then with nothing changed: median {statistics.median(steady):.0f} ms")
        with app.app_context():
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
