"""Figures for market research, SEO and exports: per-product cost of each step, import speed.

Usage: python bench/listings.py [products]   (default 1000; uses a throw-away SQLite database)
"""
from __future__ import annotations

import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
_SCRATCH = tempfile.mkdtemp(prefix="stockroom-bench-listings-")
atexit.register(shutil.rmtree, _SCRATCH, True)
os.environ.setdefault("STOCKROOM_INSTANCE", _SCRATCH)

from app.listings.phases.seo import SeoFacts, build_seo  # noqa: E402
from app.listings.pricing import PricePoint, UnitCost, research  # noqa: E402


def timed(fn, n: int) -> float:
    """Milliseconds per call, median of five rounds of n calls."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for i in range(n):
            fn(i)
        rounds.append((time.perf_counter() - started) * 1000 / n)
    return statistics.median(rounds)


def bench_pure(n: int) -> None:
    points = [PricePoint("competitor", Decimal(10 + k), "EUR", f"shop {k}") for k in range(20)]
    cost = UnitCost(Decimal("4.00"), "EUR", "item")
    print(f"market research (20 prices): {timed(lambda i: research(points, cost), n):.3f} ms per product")
    facts = SeoFacts(name="Curb Chain Bracelet 18 cm", brand="Aurum", model="CB-18", category="Chains › Bracelet",
                     condition="New", gtin="4006381333931", price="19.90", image_count=3,
                     ocr_text=["AURUM sterling silver 925", "curb chain bracelet made in Italy"])
    print(f"SEO (keywords, titles, slug): {timed(lambda i: build_seo(facts), max(1, n // 10)):.2f} ms per product")


def bench_database(n: int) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from app.core.users import organisation_get_or_create
    from app.extensions import db
    from app.listings.exports import render_export
    from app.listings.models import Listing, ListingStatus
    from app.listings.price_lists import price_list_import
    from app.pipeline.models import Product

    folder = Path(os.environ["STOCKROOM_INSTANCE"])
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}", "TESTING": True})
    with app.app_context(), app.test_request_context():
        upgrade(revision="heads")
        org = organisation_get_or_create("Bench")
        db.session.commit()
        rows = "\n".join(f"{4006381333931 if k == 0 else ''},SKU-{k},{20 + k % 7}.00,{15 + k % 5}.50,Shop {k % 9},2026-10-01"
                         for k in range(n * 10))
        data = ("GTIN,SKU,MSRP,Competitor price,Source,Date\n" + rows + "\n").encode()
        started = time.perf_counter()
        price_list_import(org_id=org.id, by=None, filename="bench.csv", data=data, currency="EUR")
        seconds = time.perf_counter() - started
        print(f"price list import: {n * 10} rows in {seconds:.2f} s ({n * 10 / seconds:,.0f} rows/s)")
        for k in range(n):
            product = Product(organisation_id=org.id, name=f"Product {k}")
            db.session.add(product)
            db.session.flush()
            db.session.add(Listing(organisation_id=org.id, product_id=product.id, slug=f"product-{k}",
                                   title=f"Brand Product {k} - Category - New", description="Product.\nGTIN: 1.",
                                   price=Decimal("19.90"), currency="EUR", attributes={"brand": "Brand"},
                                   image_order=[1, 2, 3], seo={"keywords": ["a", "b"]}, pricing={},
                                   status=ListingStatus.READY, missing=[]))
        db.session.commit()
        listings = db.session.scalars(db.select(Listing)).all()
        for fmt in ("shopify", "csv", "json"):
            started = time.perf_counter()
            body = render_export(listings, fmt, lambda i: f"https://example.test/products/images/{i}").body
            ms = (time.perf_counter() - started) * 1000
            print(f"export {fmt}: {n} listings in {ms:.0f} ms ({len(body) / 1024:.0f} KiB)")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    bench_pure(count)
    bench_database(count)
