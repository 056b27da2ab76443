"""Reference data import: `flask refdata import` against a raw bulk insert of the same rows.

    python bench/refdata.py [rows=1000000]      (DATABASE_URL=postgresql://… for PostgreSQL)

A tab-separated file in the Open Food Facts export's shape (code, product_name, brands, quantity,
categories_en, image_url, plus columns the import ignores) is generated with valid GTINs. The
anchor inserts the same rows, already parsed in memory, into a fresh `reference_products` table
the fastest plain way (SQLite: executemany in one transaction; PostgreSQL: COPY), commit
included. The import reads the file, checks every line and stages, then merges, into another
fresh database. Each runs in its own child process so peak memory (ru_maxrss) is its own.
Each side runs twice, alternating, and its best run counts. Goal: import time no more than twice
the anchor's (ratio >= 0.5), memory flat in the row count.
"""
from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

COLUMNS = ["code", "url", "creator", "product_name", "brands", "quantity", "categories_en", "image_url",
           "nutriscore_grade"]
ROUNDS = 2
BRANDS = ["Ferrero", "Barilla", "Danone", "Nestle", "Lidl", "Tesco", "Carrefour", "Heinz", "Kellogg's", "Mars"]
WORDS = ["crunchy", "organic", "wholegrain", "chocolate", "hazelnut", "tomato", "pasta", "biscuits", "yoghurt",
         "cereal", "tea", "coffee", "soup", "crackers", "juice"]


def _check_digit(payload: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return str((10 - total % 10) % 10)


def make_file(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\t".join(COLUMNS) + "\n")
        for i in range(rows):
            body = f"{rng.choice(['30', '40', '50', '54', '80', '84', '87'])}{i:010d}"
            brand = rng.choice(BRANDS)
            name = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {i}"
            fh.write("\t".join([body + _check_digit(body), f"https://world.openfoodfacts.org/product/{i}", "bench",
                                name, f"{brand},{brand} Group", f"{rng.randint(1, 9) * 100} g",
                                "Groceries, Snacks", f"https://images.example/{i}.jpg", "b"]) + "\n")


def parsed_rows(path: Path) -> list[tuple]:
    """The rows as the anchor inserts them (parsed before the clock starts)."""
    from datetime import datetime

    now = datetime(2026, 12, 1)
    out = []
    with open(path, encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            f = line.rstrip("\n").split("\t")
            brand = f[4].split(",")[0]
            out.append((f[0], f[3], brand, brand.casefold(), f[5], f[6], f[7], "bench", now))
    return out


def child(mode: str, url: str, path: str) -> dict:
    """Run one side in this process; print {"seconds", "rows", "peak_mb"}."""
    os.environ["STOCKROOM_INSTANCE"] = str(Path(path).parent / f"instance-{mode}")
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        if mode == "import":
            from app.refdata.services import reference_import

            started = time.perf_counter()
            report = reference_import(path=path)
            seconds = time.perf_counter() - started
            assert report.imported, report.error
            rows = report.added
        else:
            rows_data = parsed_rows(Path(path))
            started = time.perf_counter()
            _raw_insert(db, rows_data)
            seconds = time.perf_counter() - started
            rows = len(rows_data)
        db.engine.dispose()
    return {"seconds": seconds, "rows": rows, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def _raw_insert(db, rows: list[tuple]) -> None:
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        columns = "gtin, name, brand, brand_key, quantity, categories, image_url, source, fetched_at"
        if db.engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY reference_products ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            connection.commit()
        else:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(f"INSERT INTO reference_products ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            cursor.execute("COMMIT")
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[1] == "--child":
        print(json.dumps(child(argv[2], argv[3], argv[4])))
        return 0
    rows = int(argv[1]) if len(argv) > 1 else 1_000_000
    tmp = Path(tempfile.mkdtemp(prefix="stockroom-bench-refdata-"))
    try:
        from scratch import scratch_database

        data = tmp / "products.csv"
        make_file(data, rows)
        runs: dict[str, list[dict]] = {"anchor": [], "import": []}
        # Alternate the two sides, twice each, and keep each side's best run: the machine's noise
        # (other processes, the disk) then falls on both alike.
        for attempt in range(ROUNDS):
            for mode in ("anchor", "import"):
                folder = tmp / f"{mode}-{attempt}"
                folder.mkdir()
                url, drop = scratch_database(folder, prefix=f"stockroom_bench_ref_{mode}")
                try:
                    out = subprocess.run([sys.executable, __file__, "--child", mode, url, str(data)], check=True,
                                         capture_output=True, text=True, cwd=ROOT)
                    runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
                finally:
                    drop()
                    shutil.rmtree(folder, ignore_errors=True)
        anchor, imported = (min(runs[m], key=lambda r: r["seconds"]) for m in ("anchor", "import"))
        kind = "COPY" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "executemany"
        print(f"reference import of {rows:,} rows ({data.stat().st_size / 1e6:.0f} MB TSV) on "
              f"{'PostgreSQL' if kind == 'COPY' else 'SQLite'}")
        print(f"  raw {kind} (rows parsed beforehand): {anchor['seconds']:.2f} s, "
              f"{anchor['rows'] / anchor['seconds']:,.0f} rows/s, peak {anchor['peak_mb']:.0f} MB")
        print(f"  flask refdata import (read, check, stage, merge): {imported['seconds']:.2f} s, "
              f"{imported['rows'] / imported['seconds']:,.0f} rows/s, peak {imported['peak_mb']:.0f} MB "
              f"(each parsing worker at most {imported['worker_peak_mb']:.0f} MB)")
        ratio = anchor["seconds"] / imported["seconds"]
        print(f"  speed ratio import/raw: {ratio:.2f} (goal >= 0.5) -> {'ok' if ratio >= 0.5 else 'BELOW GOAL'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
