"""Backups of 10,000 stored images: a full backup, then an incremental one after 1% new images.

Anchor: a plain copy of the same files (shutil.copytree) in the same run. Sizes are bytes on disk,
counting a hard-linked file once. Images are incompressible bytes of photo-like sizes (the backup
never decodes them). Everything is written under one temporary folder, removed at the end.

    python bench/backup.py            # SQLite; DATABASE_URL=postgresql://… for PostgreSQL
"""
from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
WORK = Path(tempfile.mkdtemp(prefix="stockroom-bench-backup-"))
os.environ["STOCKROOM_INSTANCE"] = str(WORK / "instance")

IMAGES = int(os.environ.get("BENCH_IMAGES", 10_000))
NEW = IMAGES // 100


def disk_bytes(*folders: Path) -> int:
    """Bytes on disk under the folders, each inode once."""
    seen, total = set(), 0
    for folder in folders:
        for path in folder.rglob("*"):
            stat = path.lstat()
            if path.is_file() and stat.st_ino not in seen:
                seen.add(stat.st_ino)
                total += stat.st_blocks * 512
    return total


def store_images(n: int, rng: random.Random) -> int:
    from app.core import storage

    total = 0
    for _ in range(n):
        data = rng.randbytes(rng.randint(15_000, 60_000))
        storage.save_bytes(data, ".jpg")
        total += len(data)
    return total


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def run(app) -> None:
    from app.backups.archive import backup_create
    from app.backups.verify import verify_backup

    rng = random.Random(17)
    stored, seconds = timed(lambda: store_images(IMAGES, rng))
    uploads = Path(app.config["UPLOAD_DIR"])
    print(f"{IMAGES} images stored: {stored / 1e6:.0f} MB in {seconds:.1f} s")
    _, copy_s = timed(lambda: shutil.copytree(uploads, WORK / "plain-copy"))
    copy_b = disk_bytes(WORK / "plain-copy")
    full, full_s = timed(backup_create)
    full_b = disk_bytes(full.backup.path)
    _, verify_s = timed(lambda: verify_backup(full.backup.path))
    store_images(NEW, rng)
    incremental, inc_s = timed(backup_create)
    inc_b = disk_bytes(full.backup.path, incremental.backup.path) - full_b
    _, copy2_s = timed(lambda: shutil.copytree(uploads, WORK / "plain-copy-2"))
    files = incremental.manifest["files"]
    print(f"{'':34} {'seconds':>8} {'on disk':>10}  vs plain copy")
    print(f"{'plain copy (anchor)':34} {copy_s:8.1f} {copy_b / 1e6:8.0f} MB  1.00x / 1.00x")
    print(f"{'full backup (dump, copy, verify)':34} {full_s:8.1f} {full_b / 1e6:8.0f} MB  "
          f"{full_s / copy_s:.2f}x / {full_b / copy_b:.2f}x")
    print(f"{'  of which the full check':34} {verify_s:8.1f}")
    print(f"{'plain copy again (1% new)':34} {copy2_s:8.1f} {copy_b / 1e6:8.0f} MB")
    print(f"{'incremental backup (1% new)':34} {inc_s:8.1f} {inc_b / 1e6:8.1f} MB  "
          f"{inc_s / copy2_s:.2f}x / {inc_b / copy_b:.3f}x   ({files['copied']} copied, {files['linked']} linked)")


def main() -> None:
    from app import create_app
    from app.extensions import db

    url = f"sqlite:///{WORK / 'bench.db'}"
    drop = lambda: None  # noqa: E731
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        from bench.scratch import scratch_database

        url, drop = scratch_database(WORK)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(WORK / "uploads"),
                      "BACKUP_DIR": str(WORK / "backups"), "BACKUP_SCHEDULE": False})
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(revision="heads")
            run(app)
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()
        if not os.environ.get("REDIS_URL"):
            from app.core import redis_server

            redis_server.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    leftovers = [p for p in Path(tempfile.gettempdir()).glob("stockroom-bench-backup-*")]
    print("temporary files left behind:", len(leftovers))


if __name__ == "__main__":
    main()
