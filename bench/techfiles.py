"""Figures for tech files: milliseconds per generator and photo size, how often an object is found
on the barcode photo set, one tech pack end to end (in-process worker), the same pack again for the
unchanged product (every file reused: the time and credits saved, against the first run measured
here), and the PDF export.

Usage: python bench/techfiles.py [--photos 40]

Runs in a throw-away instance folder (SQLite, embedded Redis); prints figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
WORK = Path(tempfile.mkdtemp(prefix="stockroom-bench-techfiles-"))
os.environ["STOCKROOM_INSTANCE"] = str(WORK / "instance")

from PIL import Image  # noqa: E402

from app.techfiles import generators  # noqa: E402

FOLDERS = ("ean13-1", "ean13-2", "upca-2", "qrcode-2", "falsepositives-1")


def photo_paths(limit: int) -> list[Path]:
    shared = REPO.parent / "shared" / "fixtures" / "barcodes"
    root = shared if shared.is_dir() else REPO / "tests" / "fixtures" / "barcodes"
    found = []
    for folder in FOLDERS:
        found += sorted(p for p in (root / folder).glob("*") if p.suffix in (".webp", ".png", ".jpg"))
    usable = []
    for p in found:
        with Image.open(p) as im:
            if min(im.size) >= 64:
                usable.append(p)
    return usable[:limit]


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args)
    return (time.perf_counter() - start) * 1000, result


def bench_generators(paths: list[Path]) -> None:
    rows = {"base view": [], "close-ups (2)": [], "sketch": []}
    found, confidences = 0, []
    for p in paths:
        with Image.open(p) as im:
            im.load()
            ms, base = timed(generators.base_view, im)
            rows["base view"].append(ms)
            rows["close-ups (2)"].append(timed(generators.close_ups, im)[0])
            rows["sketch"].append(timed(generators.sketch, im)[0])
            if base.analysis["object"]["found"]:
                found += 1
                confidences.append(base.confidence)
    print(f"generators on {len(paths)} fixture photos (median / p90 ms):")
    for name, values in rows.items():
        values.sort()
        print(f"  {name:<14} {statistics.median(values):7.1f} / {values[int(0.9 * (len(values) - 1))]:7.1f}")
    print(f"  object found on {found}/{len(paths)} photos; median confidence when found: "
          f"{statistics.median(confidences) if confidences else '—'}")
    big = Image.open(paths[0]).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    print("one 4000×3000 (12 MP) photo:")
    for name, fn in (("base view", generators.base_view), ("close-ups (2)", generators.close_ups),
                     ("sketch", generators.sketch)):
        print(f"  {name:<14} {timed(fn, big)[0]:7.1f} ms")


def bench_pack() -> None:
    import uuid

    from app import create_app
    from app.core.models import Role
    from app.core.users import organisation_get_or_create, user_create
    from app.core.worker import build_worker
    from app.extensions import db
    from app.techfiles import collections, pdf, selectors
    from tests.techfiles.helpers import make_product

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{WORK / 'bench.db'}", "UPLOAD_DIR": str(WORK / "up"),
                      "REDIS_NAMESPACE": "benchtf" + uuid.uuid4().hex[:6]})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        org = organisation_get_or_create("Bench")
        user = user_create(org_id=org.id, email="bench@bench.test", password="long-enough-pw", role=Role.MANAGER)
        product = make_product(org, user)

        def run(**kwargs) -> tuple[float, object]:
            start = time.perf_counter()
            c = collections.collection_start(org_id=org.id, product_id=product.id, by=user, **kwargs)
            worker = build_worker(app, worker_class_path="app.core.worker.AppSimpleWorker")
            worker.work(burst=True, logging_level="WARNING")
            elapsed = time.perf_counter() - start
            db.session.refresh(c)
            return elapsed, c

        first_s, first = run(name="first")
        print(f"tech pack for 2 photos ({len(first.items)} files, status {first.status.value}): {first_s:.2f} s "
              f"including queue and database, {selectors.collection_credits(first.id)} credits")
        again_s, again = run(name="unchanged")
        reused = sum(1 for i in again.items if i.reused)
        print(f"the same pack again, product unchanged: {again_s:.2f} s, {reused} of {len(again.items)} files reused, "
              f"{selectors.collection_credits(again.id)} credits; time saved by reuse {first_s - again_s:.2f} s "
              f"({100 * (first_s - again_s) / first_s:.0f} % of the first run)")
        forced_s, forced = run(name="forced", force=True)
        print(f"the same pack made again on purpose (regenerate): {forced_s:.2f} s, "
              f"{selectors.collection_credits(forced.id)} credits")
        start = time.perf_counter()
        data, printed = pdf.collection_pdf(first)
        print(f"PDF export: {(time.perf_counter() - start) * 1000:.0f} ms, {len(data) / 1024:.0f} KiB, "
              f"{len(printed)} images")
        db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=40)
    args = parser.parse_args()
    try:
        bench_generators(photo_paths(args.photos))
        bench_pack()
    finally:
        from app.core import redis_server

        redis_server.stop()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
