"""Inventory list response time with 50,000 items, through the Flask test client (figures, not assertions).

A scratch database (SQLite, or a scratch PostgreSQL database when DATABASE_URL points at a server)
gets ITEMS items with a ledger row each; then every list variant below is requested ROUNDS times
(full pages and HTMX partials: first page, deep page, searches, filters, sorts) and the median and
p95 are printed, overall and per variant.

    python bench/inventory.py [items=50000] [rounds=6]
"""
from __future__ import annotations

import atexit
import logging
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="stockroom-bench-inventory-"))
atexit.register(shutil.rmtree, TMP, True)  # first registered, so it runs after the embedded Redis stops
os.environ["STOCKROOM_INSTANCE"] = str(TMP / "instance")

from goals import record  # noqa: E402  (bench/goals.py)
from scratch import scratch_database  # noqa: E402  (bench/scratch.py)
from sqlalchemy import insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.core import redis_server  # noqa: E402
from app.core.database import refresh_statistics  # noqa: E402
from app.core.models import Role, utcnow  # noqa: E402
from app.core.users import organisation_get_or_create, user_create  # noqa: E402
from app.extensions import db  # noqa: E402
from app.inventory.category_rules import DEFAULT_RULES  # noqa: E402
from app.inventory.models import Category, Item, MovementKind, StockMovement  # noqa: E402
from app.inventory.services import category_ensure, search_text_for  # noqa: E402

ITEMS = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 6
PASSWORD = "bench-password-123"
WORDS = ["Paperclip", "Rolo", "Curb", "Figaro", "Box", "Snake", "Rope", "Cable", "Satellite", "Ball"]
KINDS = ["bracelet chain", "necklace chain", "earring hooks", "charm pendant", "lobster clasp", "jump rings",
         "bag charm", "connector"]
COLORS = ["Gold", "Silver", "Rose Gold", "Steel", "Black"]
SIZES = ["16cm", "18cm", "20cm", "45cm", "50cm", "6mm", "8mm"]



def seed(org_id: int) -> dict[str, int]:
    """ITEMS items spread over the default categories, each with its stock explained by one ledger row."""
    rng = random.Random(42)
    category_ids = {r["path"]: category_ensure(org_id=org_id, path=r["path"]).id for r in DEFAULT_RULES}
    db.session.commit()
    paths = list(category_ids)
    now = utcnow()
    items, movements = [], []
    for n in range(1, ITEMS + 1):
        kind = KINDS[n % len(KINDS)]
        title = f"{rng.choice(WORDS)} {kind} {rng.choice(SIZES)} bulk"
        attributes = {"color": rng.choice(COLORS), "size": rng.choice(SIZES)}
        sku = f"BN-{n:06d}"
        on_hand = rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 40, 100])
        items.append({"id": n, "organisation_id": org_id, "sku": sku, "title": title,
                      "category_id": category_ids[paths[n % len(paths)]], "attributes": attributes,
                      "search_text": search_text_for(sku, title, attributes), "currency": "USD",
                      "reorder_point": rng.choice([0, 2, 5, 10]), "on_hand": on_hand, "reserved": 0,
                      "discontinued": n % 97 == 0, "created_at": now - timedelta(minutes=n),
                      "updated_at": now - timedelta(minutes=rng.randrange(ITEMS))})
        if on_hand:
            movements.append({"organisation_id": org_id, "item_id": n, "kind": MovementKind.IMPORT,
                              "on_hand_delta": on_hand, "reserved_delta": 0, "reason": "bench seed",
                              "created_at": now})
    for start in range(0, len(items), 5000):
        db.session.execute(insert(Item), items[start:start + 5000])
    for start in range(0, len(movements), 5000):
        db.session.execute(insert(StockMovement), movements[start:start + 5000])
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('inventory_items', 'id'), :n)"), {"n": ITEMS})
    db.session.commit()
    # As a supplier import that created this many items does when it ends (app.inventory.imports).
    refresh_statistics("inventory_items", "stock_movements")
    return category_ids


def variants(category_ids: dict[str, int]) -> list[tuple[str, str, bool]]:
    chains = db.session.scalar(select(Category.id).where(Category.path == "Chains"))
    return [
        ("first page", "/inventory/", False),
        ("page 500 (HTMX)", "/inventory/?page=500", True),
        ("search 'gold' (HTMX)", "/inventory/?q=gold", True),
        ("search 'rolo bracelet 18cm' (HTMX)", "/inventory/?q=rolo+bracelet+18cm", True),
        ("search SKU 'BN-012345' (HTMX)", "/inventory/?q=BN-012345", True),
        ("search, no match (HTMX)", "/inventory/?q=zzzz", True),
        ("category subtree 'Chains'", f"/inventory/?category={chains}", True),
        ("leaf category, page 20", f"/inventory/?category={category_ids['Charms › Pendants']}&page=20", True),
        ("status low stock", "/inventory/?status=low_stock", True),
        ("low stock, sort available", "/inventory/?low=1&sort=available", True),
        ("sort -available, page 100", "/inventory/?sort=-available&page=100", True),
        ("sort recently changed", "/inventory/?sort=-updated", True),
    ]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def main() -> None:
    url, drop = scratch_database(TMP, "stockroom_bench_inv")
    redis_url = os.environ.get("REDIS_URL") or redis_server.ensure_running(TMP / "redis", stop_at_exit=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url,
                      "REDIS_NAMESPACE": "bench-inventory-" + uuid.uuid4().hex[:6], "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(revision="heads")
            org = organisation_get_or_create("Bench")
            user = user_create(org_id=org.id, email="bench@bench.test", password=PASSWORD, role=Role.MANAGER)
            started = time.perf_counter()
            category_ids = seed(org.id)
            print(f"database: {make_url(url).get_backend_name()}; {ITEMS} items seeded in "
                  f"{time.perf_counter() - started:.1f} s")
            cases = variants(category_ids)
            email = user.email
            db.session.remove()
        client = app.test_client()
        client.post("/login", data={"email": email, "password": PASSWORD})
        all_times: list[float] = []
        per_case: dict[str, list[float]] = {label: [] for label, _, _ in cases}
        for _label, path, htmx in cases:  # warm-up: first compile of templates and queries
            client.get(path, headers={"HX-Request": "true"} if htmx else {})
        for _ in range(ROUNDS):
            for label, path, htmx in cases:
                started = time.perf_counter()
                response = client.get(path, headers={"HX-Request": "true"} if htmx else {})
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")
                per_case[label].append(elapsed)
                all_times.append(elapsed)
        body = client.get("/inventory/?q=gold", headers={"HX-Request": "true"}).get_data(as_text=True)
        total = re.search(r"(\d+) rows", body)
        print(f"{len(all_times)} list requests ({len(cases)} variants x {ROUNDS}), 50 rows per page, "
              f"offset pagination with an exact count ('gold' matches {total.group(1) if total else '?'} items)")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"machine load average while measuring: {load:.1f} on {os.cpu_count()} CPUs")
        print(f"overall: median {statistics.median(all_times):7.1f} ms   p95 {percentile(all_times, 0.95):7.1f} ms")
        record(4, f"inventory list p95 at {ITEMS:,} items (in-process test client)", percentile(all_times, 0.95),
               50, "ms", 1.0)
        for label, times in per_case.items():
            print(f"  {label:38} median {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms")
        with app.app_context():
            db.engine.dispose()
        if os.environ.get("BENCH_KEEP"):
            print("kept", url)
    finally:
        drop()


if __name__ == "__main__":
    main()
