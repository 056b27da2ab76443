"""CSV batches: parse + store 100,000 rows next to a raw bulk insert of the same rows, then rows per
minute processed by two real worker processes. Figures, not assertions.

SQLite by default; with DATABASE_URL pointing at a PostgreSQL server a scratch database is created
there and dropped after. REDIS_URL is used when set, else an embedded Redis.

    python bench/batches.py [rows=100000] [processed_rows=2400]
"""
from __future__ import annotations

import atexit
import csv
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="stockroom-bench-batches-"))
atexit.register(shutil.rmtree, TMP, True)  # registered first, so it runs after the embedded Redis stops
os.environ["STOCKROOM_INSTANCE"] = str(TMP / "instance")

from goals import record  # noqa: E402  (bench/goals.py)
from ready import stop_workers, wait_for_workers  # noqa: E402  (bench/ready.py)
from scratch import scratch_database  # noqa: E402  (bench/scratch.py)
from sqlalchemy import delete, func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.batches import services  # noqa: E402
from app.batches.models import Batch, BatchRow, BatchStatus  # noqa: E402
from app.core import redis_server  # noqa: E402
from app.core.database import write_intent  # noqa: E402
from app.core.models import Role, utcnow  # noqa: E402
from app.core.users import organisation_get_or_create, user_create  # noqa: E402
from app.extensions import db  # noqa: E402

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
# Rows processed by the two workers: enough for a quarter of a minute of work, so the figure is the
# workers' steady pace (on PostgreSQL, 600 rows took 5 s and gave 0.51–0.53×; 1,200 rows 0.71×, 2,400 0.77×).
PROCESSED = int(sys.argv[2]) if len(sys.argv) > 2 else 2400
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


def _empty_rows_table() -> None:
    with write_intent():
        db.session.execute(delete(BatchRow))
        db.session.commit()


def _store_ours(app, user, data: bytes) -> tuple[float, int, int]:
    batch = new_batch(app, user, data)
    _empty_rows_table()
    t0 = time.perf_counter()
    with write_intent():
        stored, _ = services.rows_store(batch=batch)
        db.session.commit()
    return time.perf_counter() - t0, stored, batch.id


def _stored_rows(batch_id: int) -> list:
    """The rows ours stored, every column, read back once for both raw anchors (each empties the table)."""
    columns = services._ROW_COLUMNS
    return db.session.execute(select(*(getattr(BatchRow, c) for c in columns)).where(BatchRow.batch_id == batch_id)).all()


def _store_raw(app, user, data: bytes, rows: list, *, copy: bool) -> tuple[float, int]:
    """The same rows, already parsed and serialised, every column ours writes, into an empty table,
    commit included: executemany through the driver, or COPY on PostgreSQL."""
    columns = services._ROW_COLUMNS
    other = new_batch(app, user, data)
    params = [(r[0], other.id, r[2], json.dumps(r[3]), *r[4:]) for r in rows]
    db.session.commit()
    _empty_rows_table()
    engine = db.engine
    names = ", ".join(columns)
    with write_intent(), engine.connect() as conn:
        raw = conn.connection.driver_connection
        t0 = time.perf_counter()
        with conn.begin():
            cursor = raw.cursor()
            if copy:
                with cursor.copy(f"COPY batch_rows ({names}) FROM STDIN") as stream:
                    for row in params:
                        stream.write_row(row)
            else:
                mark = "?" if engine.dialect.name == "sqlite" else "%s"
                cursor.executemany(f"INSERT INTO batch_rows ({names}) VALUES ({', '.join([mark] * len(columns))})",
                                   params)
        seconds = time.perf_counter() - t0  # after the commit
    return seconds, len(params)


def bench_store(app, user, data: bytes, runs: int = 3) -> None:
    ours, raw, copies = [], [], []
    postgres = db.engine.dialect.name == "postgresql"
    for _ in range(runs):  # interleaved, best of each: the machine is shared
        seconds, stored, batch_id = _store_ours(app, user, data)
        ours.append(seconds)
        rows = _stored_rows(batch_id)
        raw_seconds, raw_rows = _store_raw(app, user, data, rows, copy=False)
        raw.append(raw_seconds)
        if postgres:
            seconds_copy, copied = _store_raw(app, user, data, rows, copy=True)
            assert copied == raw_rows == stored, (copied, raw_rows, stored)
            copies.append(seconds_copy)
        _empty_rows_table()
    best_ours, best_raw = min(ours), min(raw)
    print(f"database: {db.engine.dialect.name} (best of {runs} interleaved runs, each into an empty table, commit "
          f"included; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"parse + store {stored:,} rows (sniffed file, header mapping, per-row checks, bulk insert): "
          f"{best_ours:.2f} s = {stored / best_ours:,.0f} rows/s")
    print(f"raw driver executemany of the same {raw_rows:,} rows (pre-parsed, pre-serialised, same columns): "
          f"{best_raw:.2f} s = {raw_rows / best_raw:,.0f} rows/s")
    record(6, "CSV ingest rows/s vs raw executemany", stored / best_ours, raw_rows / best_raw, "rows/s", 0.5,
           higher_is_better=True)
    if copies:
        best_copy = min(copies)
        record(6, "CSV ingest rows/s vs raw COPY", stored / best_ours, raw_rows / best_copy, "rows/s", 0.5,
               higher_is_better=True)


def process_row_limit(data: bytes, mapping: dict, org_id: int) -> float:
    """Rows/min two cores allow when all they do is `process_row` (CPU time, in this process)."""
    from app.batches.generate import process_row
    from app.batches.services import templates_for

    rows = list(csv.DictReader(io.StringIO(data.decode())))
    templates = templates_for(org_id)
    process_row(rows[0], mapping, templates)  # imports and caches, as a warm worker has them
    cpu = time.process_time()
    for row in rows:
        process_row(row, mapping, templates)
    per_row = (time.process_time() - cpu) / len(rows)
    return 2 * 60 / per_row


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
    with app.app_context():
        wait_for_workers(2)  # warmed up and registered: the clock measures rows, not start-up
    try:
        t0, started_at = time.perf_counter(), utcnow()
        with write_intent():  # as the Start button's request: the write lock first (a read snapshot taken before
            # a worker's heartbeat commits cannot be turned into a write: SQLite says "database is locked" at once)
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
        first, last = db.session.execute(select(func.min(BatchRow.started_at), func.max(BatchRow.finished_at))
                                         .where(BatchRow.batch_id == batch.id)).one()
        print(f"  first row started {(first - started_at).total_seconds():.2f} s after the start; "
              f"last row written {(last - started_at).total_seconds():.2f} s after it")
        target = 0.7 if db.engine.dialect.name == "postgresql" else 0.5
        limit = process_row_limit(data, dict(batch.mapping), user.organisation_id)
        record(3, f"CSV rows/min, 2 workers, {db.engine.dialect.name}, vs process_row CPU limit",
               done / elapsed * 60, limit, "rows/min", target, higher_is_better=True)
    finally:
        stop_workers(procs)
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
            env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, REDIS_NAMESPACE=namespace,
                       UPLOAD_DIR=config["UPLOAD_DIR"], SECRET_KEY=app.config["SECRET_KEY"],
                       STOCKROOM_INSTANCE=str(TMP / "worker-instance"), BATCH_CHUNK_SIZE="20")
            # The workers first: the ingest runs below insert and delete 900,000 rows, and on
            # PostgreSQL the autovacuum that follows took CPU from the workers (0.57× against 0.77×).
            if PROCESSED:
                bench_workers(app, user, env)
            bench_store(app, user, make_csv(ROWS))
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
