"""CSV batches: parse + store 100,000 rows next to a raw bulk insert of the same rows, then rows per
minute processed by two real worker processes. Figures, not assertions.

SQLite by default; with DATABASE_URL pointing at a PostgreSQL server a scratch database is created
there and dropped after. REDIS_URL is used when set, else an embedded Redis.

    python bench/batches.py [rows=100000] [processed_rows=600]
"""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="stockroom-bench-batches-"))
os.environ["STOCKROOM_INSTANCE"] = str(TMP / "instance")

from scratch import scratch_database  # noqa: E402  (bench/scratch.py)
from sqlalchemy import delete, func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.batches import services  # noqa: E402
from app.batches.models import Batch, BatchRow, BatchStatus  # noqa: E402
from app.core import redis_server  # noqa: E402
from app.core.database import write_intent  # noqa: E402
from app.core.models import Role  # noqa: E402
from app.core.users import organisation_get_or_create, user_create  # noqa: E402
from app.extensions import db  # noqa: E402

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
PROCESSED = int(sys.argv[2]) if len(sys.argv) > 2 else 600
HEADER = ["Product Name", "MPN", "Country of origin", "Category", "Size", "Description", "Supplier note"]



def make_csv(rows: int) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    for i in range(1, rows + 1):
        writer.writerow([f"Gold chain {i}", f"GC-{i:06d}", "Poland", "Necklace", f"{40 + i % 10} cm",
                         f"Gold-plated curb chain number {i}, 3 mm links, lobster clasp", f"shelf {i % 97}"])
    return buf.getvalue().encode()


def new_batch(app, user, data: bytes) -> Batch:
    batch = services.batch_upload(org_id=user.organisation_id, by=user, stream=io.BytesIO(data), filename="bench.csv")
    mapping = {"title": "Product Name", "mpn": "MPN", "country": "Country of origin", "product_type": "Category",
               "size": "Size", "description": "Description"}
    return services.batch_mapping_set(org_id=user.organisation_id, batch_id=batch.id, mapping=mapping, by=user)


def _store_ours(app, user, data: bytes) -> tuple[float, int, int]:
    batch = new_batch(app, user, data)
    t0 = time.perf_counter()
    with write_intent():
        stored, _ = services.rows_store(batch=batch)
        db.session.commit()
    return time.perf_counter() - t0, stored, batch.id


def _store_raw(app, user, data: bytes, params_of: int) -> tuple[float, int, float | None]:
    rows = db.session.execute(select(BatchRow.organisation_id, BatchRow.row_number, BatchRow.data)
                              .where(BatchRow.batch_id == params_of)).all()
    other = new_batch(app, user, data)
    params = [(r.organisation_id, other.id, r.row_number, json.dumps(r.data), "pending", 0) for r in rows]
    db.session.commit()
    sql = ("INSERT INTO batch_rows (organisation_id, batch_id, row_number, data, status, retry_count) "
           "VALUES ({0}, {0}, {0}, {0}, {0}, {0})")
    engine = db.engine
    with write_intent(), engine.begin() as conn:
        raw = conn.connection.driver_connection
        t0 = time.perf_counter()
        raw.cursor().executemany(sql.format("?" if engine.dialect.name == "sqlite" else "%s"), params)
        seconds = time.perf_counter() - t0
    copy_seconds = None
    if engine.dialect.name == "postgresql":
        third = new_batch(app, user, data)
        params = [(p[0], third.id, *p[2:]) for p in params]
        db.session.commit()
        with engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()
            t0 = time.perf_counter()
            with cursor.copy("COPY batch_rows (organisation_id, batch_id, row_number, data, status, retry_count) "
                             "FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
            copy_seconds = time.perf_counter() - t0
    return seconds, len(params), copy_seconds


def bench_store(app, user, data: bytes, runs: int = 3) -> None:
    ours, raw, copies = [], [], []
    for _ in range(runs):  # interleaved, best of each: the machine is shared
        seconds, stored, batch_id = _store_ours(app, user, data)
        ours.append(seconds)
        raw_seconds, raw_rows, copy_seconds = _store_raw(app, user, data, batch_id)
        raw.append(raw_seconds)
        if copy_seconds:
            copies.append(copy_seconds)
        with write_intent():
            db.session.execute(delete(BatchRow))
            db.session.commit()
    best_ours, best_raw = min(ours), min(raw)
    print(f"database: {db.engine.dialect.name} (best of {runs} interleaved runs; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"parse + store {stored:,} rows (sniffed file, header mapping, per-row checks, bulk insert): "
          f"{best_ours:.2f} s = {stored / best_ours:,.0f} rows/s")
    print(f"raw driver executemany of the same {raw_rows:,} rows (pre-parsed, pre-serialised): "
          f"{best_raw:.2f} s = {raw_rows / best_raw:,.0f} rows/s")
    print(f"ratio (ours / raw): {(stored / best_ours) / (raw_rows / best_raw):.2f}")
    if copies:
        best_copy = min(copies)
        print(f"raw COPY of the same rows (pre-parsed, pre-serialised): {best_copy:.2f} s = "
              f"{raw_rows / best_copy:,.0f} rows/s; ratio (ours / raw COPY): "
              f"{(stored / best_ours) / (raw_rows / best_copy):.2f}")


def bench_workers(app, user, env: dict) -> None:
    data = make_csv(PROCESSED)
    batch = new_batch(app, user, data)
    procs = []
    logs = []
    for n in (1, 2):
        log = open(TMP / f"worker{n}.log", "w")
        logs.append(log)
        procs.append(subprocess.Popen([sys.executable, "worker.py", "--name", f"bench-w{n}", "--log-level", "WARNING"],
                                      cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    time.sleep(3)  # let both workers import the app before the clock starts
    try:
        t0 = time.perf_counter()
        services.batch_start(org_id=user.organisation_id, batch_id=batch.id, by=user, max_concurrent_jobs=2)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            db.session.rollback()
            status = db.session.scalar(select(Batch.status).where(Batch.id == batch.id))
            if status in (BatchStatus.COMPLETED, BatchStatus.COMPLETED_WITH_ERRORS):
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - t0
        done = db.session.scalar(select(func.count()).select_from(BatchRow).where(
            BatchRow.batch_id == batch.id, BatchRow.status == "completed"))
        print(f"processed with two workers (prompts from templates, 2 cards rendered locally, tags): "
              f"{done} rows in {elapsed:.1f} s = {done / elapsed * 60:,.0f} rows/min")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
        for log in logs:
            log.close()


def main() -> None:
    logging.disable(logging.WARNING)
    url, drop = scratch_database(TMP)
    redis_url = os.environ.get("REDIS_URL") or redis_server.ensure_running(TMP / "redis")
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    config = {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "REDIS_NAMESPACE": namespace,
              "UPLOAD_DIR": str(TMP / "uploads")}
    app = create_app(config)
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(revision="heads")
            org = organisation_get_or_create("Bench Org")
            user = user_create(org_id=org.id, email="bench@bench.test", password="bench-password-1", role=Role.MANAGER)
            db.session.commit()
            bench_store(app, user, make_csv(ROWS))
            env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, REDIS_NAMESPACE=namespace,
                       UPLOAD_DIR=config["UPLOAD_DIR"], SECRET_KEY=app.config["SECRET_KEY"],
                       STOCKROOM_INSTANCE=str(TMP / "worker-instance"), BATCH_CHUNK_SIZE="20")
            if PROCESSED:
                bench_workers(app, user, env)
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
