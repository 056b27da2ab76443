"""Order confirmations per second (each reserves stock for two lines and a charm), on a scratch database.

Sequential, then with 4 threads (each its own app context and session). SQLite by default; with
DATABASE_URL pointing at a PostgreSQL server, a scratch database is created there and dropped after.
Figures, not assertions.

    python bench/orders.py [orders_per_run=300]
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="stockroom-bench-orders-"))
atexit.register(shutil.rmtree, TMP, True)  # first registered, so it runs after the embedded Redis stops
os.environ["STOCKROOM_INSTANCE"] = str(TMP / "instance")

from scratch import scratch_database  # noqa: E402  (bench/scratch.py)
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.core import redis_server  # noqa: E402
from app.core.database import write_intent  # noqa: E402
from app.core.users import organisation_get_or_create  # noqa: E402
from app.extensions import db  # noqa: E402
from app.inventory.models import Item  # noqa: E402
from app.inventory.stock import stock_adjust  # noqa: E402
from app.orders import services  # noqa: E402

ORDERS = int(sys.argv[1]) if len(sys.argv) > 1 else 300
THREADS = 4



def seed(org_id: int, count: int) -> list[int]:
    """Draft orders of two lines each, one of them with a charm; stock for all of them."""
    items = [Item(organisation_id=org_id, sku=f"B-{n:03d}", title=f"Bench item {n}", price=Decimal("9.90"),
                  currency="EUR") for n in range(20)]
    db.session.add_all(items)
    db.session.commit()
    for item in items:
        stock_adjust(org_id=org_id, item_id=item.id, delta=count * 10, reason="bench stock", by=None)
    ids = [i.id for i in items]
    orders = []
    for n in range(count):
        lines = [{"item_id": ids[n % 10], "quantity": 1,
                  "customisation": {"chain_length_cm": "45", "charm_ids": [ids[10 + n % 10]]}},
                 {"item_id": ids[(n + 3) % 10], "quantity": 2}]
        orders.append(services.order_create(org_id=org_id, customer={"name": f"Bench {n}"}, lines=lines,
                                            by=None).id)
    return orders


def confirm_all(app, org_id: int, order_ids: list[int], threads: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()

    def work(chunk: list[int]) -> None:
        with app.app_context(), write_intent():
            for order_id in chunk:
                started = time.perf_counter()
                services.order_confirm(org_id=org_id, order_id=order_id, by=None)
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
            db.session.remove()

    chunks = [order_ids[i::threads] for i in range(threads)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(work, chunks))
    return time.perf_counter() - started, latencies


def main() -> None:
    url, drop = scratch_database(TMP)
    redis_url = os.environ.get("REDIS_URL") or redis_server.ensure_running(TMP / "redis", stop_at_exit=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "REDIS_NAMESPACE": "bench-orders"})
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(revision="heads")
            org_id = organisation_get_or_create("Bench").id
            db.session.commit()
            started = time.perf_counter()
            orders = seed(org_id, ORDERS * 2)
            created = time.perf_counter() - started
            db.session.remove()
            print(f"database: {make_url(url).get_backend_name()}, {ORDERS} confirmations per run "
                  "(2 lines + 1 charm each, 3 stock rows reserved)")
            print(f"order creation (sequential):   {len(orders) / created:8.1f} orders/s")
            for label, threads, chunk in (("sequential", 1, orders[:ORDERS]), (f"{THREADS} threads", THREADS,
                                                                                orders[ORDERS:])):
                elapsed, lat = confirm_all(app, org_id, chunk, threads)
                lat.sort()
                print(f"confirmations ({label + '):':12} {len(chunk) / elapsed:8.1f} orders/s   "
                      f"p50 {statistics.median(lat):6.1f} ms   p95 {lat[int(len(lat) * 0.95) - 1]:6.1f} ms")
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
