"""List pages at production sizes through gunicorn (gevent worker, as `make run` starts it).

A scratch database (SQLite, or a scratch PostgreSQL database when DATABASE_URL points at a server)
gets ITEMS inventory items, PRODUCTS products (a photo and six phases each), ORDERS orders (a line
each, a third of them in work), batches with rows, customers with conversations, tech files and
audit entries, all by bulk insert. Then every list page is requested ROUNDS times (first page, a
search, a deep page where the list pages) and its p50/p95 printed: server time from the
`Server-Timing` header the app sets, and the time this client waited, with /healthz
as the anchor measured in the same run. Figures, not assertions.

    python bench/pages.py [rounds=40] [items=50000] [products=10000] [orders=20000]
"""
from __future__ import annotations

import atexit
import http.client
import logging
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="stockroom-bench-pages-"))
atexit.register(shutil.rmtree, TMP, True)  # first registered, so it runs after the embedded Redis stops
os.environ["STOCKROOM_INSTANCE"] = str(TMP / "instance")

from goals import record  # noqa: E402  (bench/goals.py)
from scratch import scratch_database  # noqa: E402  (bench/scratch.py)
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.batches.models import Batch, BatchRow  # noqa: E402
from app.batches.statuses import BatchStatus, RowStatus  # noqa: E402
from app.core import redis_server  # noqa: E402
from app.core.models import AuditEntry, Role, utcnow  # noqa: E402
from app.core.users import organisation_get_or_create, user_create  # noqa: E402
from app.extensions import db  # noqa: E402
from app.inbox.models import Channel, Conversation, CustomerProfile, Direction, Message  # noqa: E402
from app.inventory.models import Item  # noqa: E402
from app.orders.models import Customer, Order, OrderItem  # noqa: E402
from app.orders.statuses import OrderStatus  # noqa: E402
from app.pipeline.contract import PHASES  # noqa: E402
from app.pipeline.models import Product, ProductImage, ProductPhase  # noqa: E402
from app.pipeline.statuses import PhaseStatus, ProductStatus  # noqa: E402
from app.techfiles.models import FileType, TechFile  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 40
ITEMS = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
PRODUCTS = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
ORDERS = int(sys.argv[4]) if len(sys.argv) > 4 else 20_000
CUSTOMERS, CONVERSATIONS, BATCHES, BATCH_ROWS, TECH_FILES, AUDIT = 5_000, 10_000, 200, 20_000, 5_000, 50_000
EMAIL, PASSWORD = "bench@bench.test", "bench-password-123"
ORDER_MIX = [OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
             OrderStatus.DRAFT, OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.PARTLY_SHIPPED]


def bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(model), rows[start:start + 5000])


def seed(org_id: int, user_id: int) -> None:
    now = utcnow()
    o = {"organisation_id": org_id}
    bulk(Item, [{**o, "id": n, "sku": f"BN-{n:06d}", "title": f"Bench chain {n % 97} {n % 7 * 5 + 16}cm",
                 "search_text": f"bn-{n:06d} bench chain {n % 97}", "currency": "EUR", "price": Decimal("9.90"),
                 "on_hand": n % 40, "reserved": 0, "created_at": now - timedelta(minutes=n),
                 "updated_at": now - timedelta(minutes=n)} for n in range(1, ITEMS + 1)])
    statuses = [s for s in ProductStatus if s != ProductStatus.ARCHIVED]
    bulk(Product, [{**o, "id": n, "status": statuses[n % len(statuses)], "name": f"Bench product {n}",
                    "brand": "Bench", "gtin": f"{4000000000000 + n}", "confidence": n % 100,
                    "created_by_id": user_id, "created_at": now - timedelta(minutes=n),
                    "updated_at": now - timedelta(minutes=n)} for n in range(1, PRODUCTS + 1)])
    bulk(ProductImage, [{**o, "product_id": n, "sha256": f"{n:064x}", "thumb_sha256": f"{n:064x}",
                         "filename": f"p{n}.jpg", "format": "JPEG", "size_bytes": 1000, "width": 800, "height": 600,
                         "position": 0} for n in range(1, PRODUCTS + 1)])
    bulk(ProductPhase, [{**o, "product_id": n, "name": name, "position": i,
                         "status": PhaseStatus.COMPLETED if i < n % 7 else PhaseStatus.PENDING}
                        for n in range(1, PRODUCTS + 1) for i, name in enumerate(PHASES)])
    bulk(Customer, [{**o, "id": n, "name": f"Customer {n}", "email": f"c{n}@example.test",
                     "created_at": now - timedelta(hours=n)} for n in range(1, CUSTOMERS + 1)])
    bulk(CustomerProfile, [{**o, "customer_id": n, "emails": [f"c{n}@example.test"]} for n in range(1, CUSTOMERS + 1)])
    bulk(Order, [{**o, "id": n, "number": f"B-{n:06d}", "status": ORDER_MIX[n % len(ORDER_MIX)],
                  "customer_id": n % CUSTOMERS + 1, "customer_name": f"Customer {n % CUSTOMERS + 1}",
                  "currency": "EUR", "subtotal": Decimal("19.80"), "total": Decimal("19.80"),
                  "created_at": now - timedelta(minutes=3 * n), "updated_at": now - timedelta(minutes=3 * n),
                  "due_date": (now + timedelta(days=n % 30)).date() if n % 3 else None}
                 for n in range(1, ORDERS + 1)])
    bulk(OrderItem, [{**o, "order_id": n, "item_id": n % ITEMS + 1, "sku": f"BN-{n % ITEMS + 1:06d}",
                      "title": "Bench chain", "unit_price": Decimal("9.90"), "quantity": 2,
                      "line_total": Decimal("19.80")} for n in range(1, ORDERS + 1)])
    bulk(Conversation, [{**o, "id": n, "customer_id": n % CUSTOMERS + 1, "channel": Channel.EMAIL,
                         "address": f"c{n % CUSTOMERS + 1}@example.test", "unread_count": n % 3,
                         "last_message_at": now - timedelta(minutes=n)} for n in range(1, CONVERSATIONS + 1)])
    bulk(Message, [{**o, "conversation_id": n, "direction": Direction.IN, "channel": Channel.EMAIL,
                    "sender": f"c{n % CUSTOMERS + 1}@example.test", "subject": f"Question {n}",
                    "body": "Is the 45 cm rolo chain in stock?", "processed": True,
                    "created_at": now - timedelta(minutes=n)} for n in range(1, CONVERSATIONS + 1)])
    bulk(Batch, [{**o, "id": n, "created_by_id": user_id, "filename": f"batch-{n}.csv", "stored_sha256": f"{n:064x}",
                  "status": BatchStatus.COMPLETED, "total_rows": BATCH_ROWS if n == 1 else 100,
                  "processed_rows": BATCH_ROWS if n == 1 else 100, "successful_rows": BATCH_ROWS if n == 1 else 100,
                  "created_at": now - timedelta(hours=n)} for n in range(1, BATCHES + 1)])
    bulk(BatchRow, [{**o, "batch_id": 1, "row_number": n, "data": {"name": f"Row {n}", "sku": f"R-{n}"},
                     "status": RowStatus.COMPLETED, "results": {"title": f"Row {n} title"}}
                    for n in range(1, BATCH_ROWS + 1)])
    bulk(TechFile, [{**o, "product_id": n % PRODUCTS + 1, "file_type": list(FileType)[n % 4], "generator": "bench",
                     "sha256": f"{n:064x}", "mime": "image/png", "width": 512, "height": 512}
                    for n in range(1, TECH_FILES + 1)])
    bulk(AuditEntry, [{**o, "actor_id": user_id, "action": "order.confirm", "object_type": "order",
                       "object_id": str(n % ORDERS + 1), "after": {"status": "confirmed"},
                       "created_at": now - timedelta(seconds=n)} for n in range(1, AUDIT + 1)])
    if db.engine.dialect.name == "postgresql":
        for table in ("inventory_items", "products", "customers", "orders", "conversations", "batches"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # A live database is vacuumed by autovacuum after a bulk load (insert threshold); do it now so that
        # index-only scans can skip the heap, as they would a few minutes after such a load.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


PAGES = [  # (label, path): first page, a search, a deep page where the list pages
    ("products board", "/products/"),
    ("products search", "/products/?q=product+12"),
    ("orders", "/orders/"),
    ("orders search", "/orders/?q=B-0123"),
    ("orders page 300", "/orders/?page=300"),
    ("orders today", "/orders/today"),
    ("inventory", "/inventory/"),
    ("inventory search", "/inventory/?q=chain+42"),
    ("inventory page 900", "/inventory/?page=900"),
    ("batches", "/batches/"),
    ("batches page 4", "/batches/?page=4"),
    ("batch rows", "/batches/1/rows"),
    ("batch rows page 300", "/batches/1/rows?page=300"),
    ("inbox", "/inbox/"),
    ("inbox search", "/inbox/?q=c42"),
    ("inbox page 150", "/inbox/?page=150"),
    ("customers", "/inbox/customers"),
    ("customers search", "/inbox/customers?q=customer+42"),
    ("customers page 90", "/inbox/customers?page=90"),
    ("tech files", "/techfiles/"),
    ("audit log", "/admin/audit"),
    ("audit log page 900", "/admin/audit?page=900"),
]
ANCHOR = ("/healthz (anchor)", "/healthz")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def server_ms(response: http.client.HTTPResponse) -> float | None:
    found = re.search(r"app;dur=([\d.]+)", response.getheader("Server-Timing") or "")
    return float(found.group(1)) if found else None


def sign_in(conn: http.client.HTTPConnection) -> str:
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    conn.request("POST", "/login", body, {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"sign-in answered {response.status}")
    return response.getheader("Set-Cookie", cookie).split(";")[0]


def measure(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    cookie = sign_in(conn)
    pages = [*PAGES, ANCHOR]
    server: dict[str, list[float]] = {label: [] for label, _ in pages}
    client: dict[str, list[float]] = {label: [] for label, _ in pages}
    size: dict[str, int] = {}
    for round_ in range(ROUNDS + 1):  # round 0 warms templates and the statement cache
        for label, path in pages:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            body = response.read()
            waited = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
            if round_:
                client[label].append(waited)
                server[label].append(server_ms(response) or waited)
                size[label] = len(body)
    conn.close()
    anchor = statistics.quantiles(server[ANCHOR[0]], n=20)[18]
    print(f"{'page':<24} {'server p50':>10} {'p95':>7} {'client p95':>10} {'KiB':>6} {'× anchor':>8}")
    for label, _ in pages:
        p50, p95 = statistics.median(server[label]), statistics.quantiles(server[label], n=20)[18]
        print(f"{label:<24} {p50:>10.1f} {p95:>7.1f} {statistics.quantiles(client[label], n=20)[18]:>10.1f} "
              f"{size[label] / 1024:>6.0f} {p95 / anchor:>8.1f}")
    for label, _ in PAGES:
        p95 = statistics.quantiles(server[label], n=20)[18]
        record(4, f"{label} p95 (limit 50 ms)", p95, 50, "ms", 1.0)


def main() -> None:
    url, drop = scratch_database(TMP, "stockroom_bench_pages")
    redis_url = os.environ.get("REDIS_URL") or redis_server.ensure_running(TMP / "redis", stop_at_exit=True)
    namespace = "bench-pages-" + uuid.uuid4().hex[:6]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "REDIS_NAMESPACE": namespace})
    web = None
    try:
        with app.app_context():
            from flask_migrate import upgrade

            logging.disable(logging.INFO)  # the migrations' own log lines
            upgrade(revision="heads")
            logging.disable(logging.NOTSET)
            org = organisation_get_or_create("Bench")
            user = user_create(org_id=org.id, email=EMAIL, password=PASSWORD, role=Role.ADMIN)
            started = time.perf_counter()
            seed(org.id, user.id)
            print(f"database: {make_url(url).get_backend_name()}; {ITEMS:,} items, {PRODUCTS:,} products, "
                  f"{ORDERS:,} orders seeded in {time.perf_counter() - started:.1f} s")
            db.session.remove()
            db.engine.dispose()
        port = free_port()
        env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, REDIS_NAMESPACE=namespace)
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "gevent", "--worker-connections", "1000",
                                "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        measure(port)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if web is not None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(20)
        drop()


if __name__ == "__main__":
    main()
