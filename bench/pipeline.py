"""Figures for the product pipeline: products per minute through all four phases with two
workers, the runner's own overhead per phase against a no-op job on the same queues and worker
class, and milliseconds per image for decoding, barcodes, OCR, quality and the perceptual hash
(together the analysers' time, goal 2's anchor).

Usage: python bench/pipeline.py [--products 200] [--workers 2] [--worker-class dotted.path]

Two passes over the same photos, each with --products products:
- overhead (goal 1): products uploaded and started one by one, a no-op job queued beside each.
  Phase overhead is what the worker spends on a phase job from forking its work horse to reaping
  it, minus the phases' own `run()`; a phase job runs its phase, the product's next ones and the
  phase jobs it takes off the queue after them in the same horse, so the overhead is given per
  phase (shared out over the phases a job ran) and per job. A no-op job at the head of the queue
  ends a job's run of products, as any job of another kind does.
  Its anchor is the same span of the no-op jobs (bench/timed_worker.py records the spans).
  With another --worker-class the spans are not recorded and the jobs' own start-to-end
  times inside the horse are compared instead.
- throughput (goal 2): products uploaded and started first, with no worker running (the first
  pass's workers are stopped), then two fresh workers; the clock runs from the first phase a worker
  claimed to the last phase finished (the database's timestamps), so nothing else shares the two
  cores: not the first pass's no-op jobs, and not this process's uploads and starts (starting 200
  products one by one beside the workers took 1.5–2.8 s of a core, 2–3 % of what they had). A
  worker that starts working later than the other counts against the figure. Its anchor is the
  analysers' own time per product in that pass: what two workers would manage if a product cost
  only that.

Runs in a throw-away instance folder (SQLite, or a scratch PostgreSQL database when DATABASE_URL
points at a server; embedded Redis unless REDIS_URL is set); prints figures, asserts nothing.
The organisation's review threshold is set to 0 so that every product goes through all four
phases (how many were identified with confidence ≥ 80 is printed separately).
"""
from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
WORK = Path(tempfile.mkdtemp(prefix="stockroom-bench-pipeline-"))
atexit.register(shutil.rmtree, WORK, True)  # first registered, so it runs after the embedded Redis stops
os.environ["STOCKROOM_INSTANCE"] = str(WORK / "instance")
PHOTO_DIRS = ("ean13-1", "upca-2", "ean13-2")

from goals import record  # noqa: E402  (bench/goals.py)
from ready import stop_workers, wait_for_workers  # noqa: E402  (bench/ready.py)


def photos() -> list[Path]:
    shared = REPO.parent / "shared" / "fixtures" / "barcodes"
    root = shared if shared.is_dir() else REPO / "tests" / "fixtures" / "barcodes"
    found = []
    for folder in PHOTO_DIRS:
        found += sorted(p for p in (root / folder).glob("*") if p.suffix in (".webp", ".png", ".jpg"))
    return found


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def start_workers(app, n: int, worker_class: str) -> list[subprocess.Popen]:
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               REDIS_NAMESPACE=app.config["REDIS_NAMESPACE"], UPLOAD_DIR=app.config["UPLOAD_DIR"],
               RQ_WORKER_CLASS=worker_class, SECRET_KEY=app.config["SECRET_KEY"])
    return [subprocess.Popen([sys.executable, "worker.py", "--name", f"bench-{i}-{uuid.uuid4().hex[:4]}",
                              "--log-level", "WARNING"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                             stderr=open(WORK / f"worker{i}.log", "w"), start_new_session=True) for i in range(n)]


def job_spans() -> dict[str, float]:
    """Fork-to-reap milliseconds per job id, as bench/timed_worker.py recorded them (empty with another class)."""
    from flask import current_app
    from timed_worker import spans_key

    from app.core.queue import get_redis

    raw = get_redis().hgetall(spans_key(current_app.config["REDIS_NAMESPACE"]))
    return {k.decode(): float(v) for k, v in raw.items()}


def job_ms(job, spans: dict[str, float]) -> float | None:
    """A job's fork-to-reap span, or (no span recorded) its start-to-end time in the horse."""
    if job.id in spans:
        return spans[job.id]
    if job.ended_at and job.started_at:
        return (job.ended_at - job.started_at).total_seconds() * 1000
    return None


def noop_job_ms(job_ids: list[str], spans: dict[str, float]) -> float:
    """Median cost of the no-op jobs (fork to reap when recorded)."""
    from rq.job import Job

    from app.core.queue import get_redis

    durations = [ms for j in Job.fetch_many(job_ids, connection=get_redis()) if j and (ms := job_ms(j, spans))]
    return statistics.median(durations) if durations else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="bench.timed_worker.TimedWorker")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from scratch import scratch_database

    from app import create_app
    from app.core.database import write_intent

    url, drop = scratch_database(WORK)  # SQLite, or a scratch PostgreSQL database with DATABASE_URL
    atexit.register(drop)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url,
                      "REDIS_NAMESPACE": "bench" + uuid.uuid4().hex[:8], "UPLOAD_DIR": str(WORK / "uploads")})
    with app.app_context():
        upgrade(revision="heads")
        write_intent().__enter__()  # this script reads then writes, like a POST request
        # One organisation a pass: each starts from the same catalogue, none sees the other's products.
        first, second = bench_organisation("Bench Org"), bench_organisation("Bench Org 2")
        print(f"pipeline bench: {args.products} products a pass, {args.workers} × {args.worker_class}, "
              f"{len(photos())} distinct photos, {first[2]} catalogue GTINs")
        procs = start_workers(app, args.workers, args.worker_class)
        try:
            wait_for_workers(args.workers)
            wall, noop_ids, first_pass = run_products(args, *first[:2])
        finally:
            stop_workers(procs)
        second_pass = queue_throughput(args, *second[:2])
        procs = start_workers(app, args.workers, args.worker_class)
        try:
            throughput_wall = run_throughput(second_pass)
        finally:
            stop_workers(procs)
        spans = job_spans()
        measure = "fork to reap" if spans else "start to end inside the horse"
        base = {"job_ms": noop_job_ms(noop_ids, spans), "spans": spans, "measure": measure}
        print(f"  no-op job (one queued beside each product, same queue and workers), {measure}: "
              f"{base['job_ms']:.1f} ms")
        report_overhead(args, base, wall, first_pass)
        report_throughput(args, throughput_wall, second_pass)


def bench_organisation(name: str):
    """(organisation, manager, catalogue GTINs): a catalogue that knows every GTIN the photos carry."""
    from app.analysis.barcodes import read_barcodes
    from app.core.models import Role
    from app.core.users import organisation_get_or_create, user_create
    from app.extensions import db
    from app.inventory.services import item_build

    org = organisation_get_or_create(name)
    org.review_threshold = 0
    user = user_create(org_id=org.id, email=f"bench{org.id}@bench.test", password="bench-password-1",
                       role=Role.MANAGER)
    known = set()
    for i, path in enumerate(photos()):
        for code in read_barcodes(path):
            if code.text.isdigit() and code.text not in known:
                known.add(code.text)
                item_build(org_id=org.id, sku=f"SKU-{i}-{len(known)}", title=f"Catalogue item {code.text}",
                           gtin=code.text, brand="Bench")
    db.session.commit()
    return org.id, user.id, len(known)


def upload(args, org_id: int, user_id: int, *, start: bool, beside=None) -> list[int]:
    from app.core.database import write_intent
    from app.core.models import User
    from app.extensions import db
    from app.pipeline import services

    pool, ids, user = photos(), [], db.session.get(User, user_id)
    for i in range(args.products):
        path = pool[i % len(pool)]
        with open(path, "rb") as fh, write_intent():
            ids.append(services.product_create(org_id=org_id, by=user, files=[(path.name, fh)], start=start).product.id)
        if beside is not None:
            beside()
    db.session.remove()
    return ids


def wait_until_done(ids: list[int], every: float = 0.1) -> None:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.pipeline.models import Product, ProductStatus

    while True:
        left = db.session.scalar(select(func.count()).select_from(Product).where(
            Product.id.in_(ids), Product.status.in_((ProductStatus.UPLOADED, ProductStatus.PROCESSING))))
        db.session.rollback()
        if not left:
            return
        time.sleep(every)


def run_products(args, org_id: int, user_id: int) -> tuple[float, list[str], list[int]]:
    """The overhead pass: upload and start products one by one, a no-op job beside each."""
    from app.core.queue import get_queue

    noop_ids = []

    def noop() -> None:  # the anchor runs interleaved with the phases, on the same queue and workers
        noop_ids.append(get_queue("default").enqueue("bench.noop_job.noop", result_ttl=3600).id)

    started = time.perf_counter()
    ids = upload(args, org_id, user_id, start=True, beside=noop)
    upload_s = time.perf_counter() - started
    print(f"  overhead pass: {args.products} products uploaded in {upload_s:.1f} s "
          f"({upload_s / args.products * 1000:.0f} ms each: checks, thumbnails, rows; workers already busy meanwhile)")
    wait_until_done(ids)
    return time.perf_counter() - started, noop_ids, ids


def queue_throughput(args, org_id: int, user_id: int) -> list[int]:
    """The throughput pass's products, uploaded and started while no worker runs."""
    started = time.perf_counter()
    ids = upload(args, org_id, user_id, start=True)
    print(f"  throughput pass: {len(ids)} products uploaded and started in {time.perf_counter() - started:.1f} s, "
          "no worker running")
    return ids


def run_throughput(ids: list[int]) -> float:
    """Seconds from the first phase a worker claimed to the last one finished (database timestamps)."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.pipeline.models import ProductPhase

    wait_until_done(ids, every=1.0)  # the clock is the database's: this process looks rarely, and stays off the cores
    first, last = db.session.execute(select(func.min(ProductPhase.started_at), func.max(ProductPhase.finished_at))
                                      .where(ProductPhase.product_id.in_(ids))).one()
    db.session.rollback()
    return (last - first).total_seconds()


def report_overhead(args, base: dict, wall: float, ids: list[int]) -> None:
    from rq.job import Job
    from sqlalchemy import select

    from app.core.queue import get_redis
    from app.extensions import db
    from app.pipeline.models import PipelineLog, Product, ProductPhase

    products = db.session.scalars(select(Product).where(Product.id.in_(ids))).all()
    by_status: dict[str, int] = {}
    for p in products:
        by_status[p.status.value] = by_status.get(p.status.value, 0) + 1
    identified = sum(1 for p in products if (p.confidence or 0) >= 80)
    print(f"  overhead pass, upload + all phases: {wall:.1f} s → {args.products / wall * 60:.1f} products/min "
          f"(statuses {by_status}; {identified} identified with confidence ≥ 80)")

    run_ms: dict[tuple[int, str], float] = {}
    for line in db.session.scalars(select(PipelineLog).where(PipelineLog.product_id.in_(ids))):
        details = line.details or {}
        if "run_ms" in details and line.phase:
            run_ms[(line.product_id, line.phase)] = details["run_ms"]
    phases = db.session.scalars(select(ProductPhase).where(ProductPhase.product_id.in_(ids))).all()
    jobs = {j.id: j for j in Job.fetch_many([p.rq_job_id for p in phases], connection=get_redis()) if j}
    # A phase job runs the phase it was queued for, then the product's next phases and the next
    # products' phase jobs it takes off the queue, all in the same horse (runner.run_phases): the
    # phases it ran hold its job id. Per job, overhead = its fork-to-reap span − Σ run() of those
    # phases, shared out over them.
    print(f"  per job (phase jobs still in Redis): job time ({base['measure']}) − Σ run() of the phases it ran")
    for name in ("analysis", "market", "seo", "listing"):
        inner = [ms for (_, phase), ms in run_ms.items() if phase == name]
        if inner:
            print(f"    {name:9} run() mean {statistics.mean(inner):7.1f} ms, n={len(inner)}")
    per_phase, per_job, products_per_job = [], [], []
    for job_id, job in jobs.items():
        its = [p for p in phases if p.rq_job_id == job_id]
        runs = [run_ms[(p.product_id, p.name)] for p in its if (p.product_id, p.name) in run_ms]
        span = job_ms(job, base["spans"])
        if not span or not runs or len(runs) < len(its):
            continue
        overhead = span - sum(runs)
        per_phase.append((overhead, len(runs)))
        per_job.append(overhead)
        products_per_job.append(len({p.product_id for p in its}))
    if not per_phase:
        print("    no data")
        return
    # Pooled: a job that ran five products shares its one fork over their twenty phases.
    pooled = sum(ms for ms, _ in per_phase) / sum(n for _, n in per_phase)
    print(f"    {len(per_phase)} jobs, {statistics.mean(products_per_job):.2f} products each; overhead per job "
          f"p50 {statistics.median(per_job):.1f} ms, per phase (job by job) p50 "
          f"{statistics.median(ms / n for ms, n in per_phase):.1f} ms, all jobs pooled {pooled:.1f} ms "
          f"(no-op job {base['job_ms']:.1f} ms)")
    record(1, f"phase overhead per phase (Σ job span − Σ run() over all phases) vs a no-op job ({base['measure']})",
           pooled, base["job_ms"], "ms", 1.2)


def report_throughput(args, wall: float, ids: list[int]) -> None:
    from sqlalchemy import select

    from app.extensions import db
    from app.pipeline.models import Product
    from app.pipeline.phases.analysis import TIMINGS

    products = db.session.scalars(select(Product).where(Product.id.in_(ids))).all()
    done = sum(1 for p in products if p.status.value in ("completed", "needs_review"))
    print(f"  throughput pass: from the first phase claimed to the last finished {wall:.1f} s "
          f"→ {args.products / wall * 60:.1f} products/min ({done} completed or waiting for review)")

    per_image: dict[str, list[float]] = {name: [] for name in TIMINGS}
    for p in products:
        timings = (p.evidence or {}).get("timings_ms") or {}
        for k in per_image:
            if k in timings:
                per_image[k].append(timings[k] / max(1, len(p.images)))
    for k, values in per_image.items():
        if values:
            print(f"  {k[:-3]:9} per image: mean {statistics.mean(values):6.1f} ms, p50 {pct(values, .5):6.1f}, "
                  f"p95 {pct(values, .95):6.1f}")
    analysers_ms = [sum((p.evidence or {}).get("timings_ms", {}).get(k, 0) for k in per_image) for p in products
                    if (p.evidence or {}).get("timings_ms")]
    if analysers_ms:
        # Each worker runs one job at a time on its own core: the analysers alone would allow this many.
        limit = args.workers * 60_000 / statistics.mean(analysers_ms)
        record(2, f"products/min, {args.workers} workers, vs the analysers' time per product", args.products / wall * 60,
               limit, "prod/min", 0.9, higher_is_better=True)


if __name__ == "__main__":
    main()
