"""After a worker is killed (kill -9, work horse too) in the middle of a batch chunk or a pipeline
phase, how long until another worker, started at that moment, resumes that very work, with the
default settings. The anchor, measured in the same run: how long the same fresh worker takes to
start and pick up new work. Figures, not assertions.

A local stand-in of the image model answers each call after IMAGE_DELAY seconds, so a chunk is
long enough to be killed in the middle; the calls cut short by the kill are counted, and the
calls that repeat them after the resume are shown as such in the usage records.

SQLite by default (DATABASE_URL for PostgreSQL: a scratch database, dropped after).

    python bench/recovery.py [runs=2]
"""
from __future__ import annotations

import atexit
import base64
import contextlib
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="stockroom-bench-recovery-"))
atexit.register(shutil.rmtree, TMP, True)  # first registered, so it runs after the embedded Redis stops
os.environ["STOCKROOM_INSTANCE"] = str(TMP / "instance")

from PIL import Image  # noqa: E402
from redis import Redis  # noqa: E402
from rq import Worker  # noqa: E402
from scratch import scratch_database  # noqa: E402  (bench/scratch.py)
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.batches import services as batches  # noqa: E402
from app.batches.models import Batch, BatchRow, BatchStatus  # noqa: E402
from app.core import redis_server  # noqa: E402
from app.core.ai_models import AICall  # noqa: E402
from app.core.database import write_intent  # noqa: E402
from app.core.models import Role  # noqa: E402
from app.core.users import organisation_get_or_create, user_create  # noqa: E402
from app.extensions import db  # noqa: E402
from app.pipeline import services as pipeline  # noqa: E402
from app.pipeline.models import PhaseStatus, Product, ProductPhase  # noqa: E402
from app.techfiles.collections import collection_start  # noqa: E402
from app.techfiles.models import Collection, CollectionItem, CollectionStatus  # noqa: E402
from tests.workers import descendants  # noqa: E402  (the same process-tree walk the tests use)

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
IMAGE_DELAY = 1.0
PHOTOS = ROOT / "tests" / "fixtures" / "pipeline"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


class ImageModel(BaseHTTPRequestHandler):
    answer = json.dumps({"created": 0, "data": [{"b64_json": base64.b64encode(_png()).decode()}]}).encode()

    def do_POST(self):  # noqa: N802 (http.server API)
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(IMAGE_DELAY)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the killed worker hung up in the middle of its call: that is the point


class Workers:
    def __init__(self, env: dict, redis_url: str):
        self.env, self.redis = env, Redis.from_url(redis_url)
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str) -> subprocess.Popen:
        log = open(TMP / f"{name}.log", "w")
        proc = subprocess.Popen([sys.executable, "worker.py", "--name", name, "--log-level", "WARNING"], cwd=ROOT,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def ready(self, name: str) -> bool:
        return any(w.name == name for w in Worker.all(connection=self.redis))

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        family = descendants(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in family:  # RQ puts the work horse in a process group of its own
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(15)

    def alone(self, scenario, *args):
        """Run a scenario, then stop every worker it started."""
        try:
            return scenario(*args)
        finally:
            self.stop_all()
            self.procs.clear()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:  # still busy with a job: this bench no longer needs it
                self.kill(proc)


def wait_for(fn, timeout: float = 300, step: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        db.session.rollback()
        value = fn()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"not within {timeout} s")


def anchor(workers: Workers, name: str, user) -> float:
    """A fresh worker: from its start to its first claimed row of a new batch."""
    batch = _batch(user, 1)
    started = time.monotonic()
    proc = workers.start(name)
    wait_for(lambda: db.session.scalar(select(func.count()).select_from(BatchRow).where(
        BatchRow.batch_id == batch.id, BatchRow.claimed_by.like(f"{name}%"))))
    seconds = time.monotonic() - started
    wait_for(lambda: db.session.scalar(select(Batch.status).where(Batch.id == batch.id)) == BatchStatus.COMPLETED)
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)
    return seconds


def _batch(user, rows: int) -> Batch:
    lines = ["Product Name,MPN,Country of origin,Category"] + [f"Chain {i},MPN-{i:05d},Poland,Necklace"
                                                              for i in range(rows)]
    data = ("\n".join(lines) + "\n").encode()
    batch = batches.batch_upload(org_id=user.organisation_id, by=user, stream=io.BytesIO(data), filename="bench.csv")
    batches.batch_mapping_set(org_id=user.organisation_id, batch_id=batch.id, by=user,
                              mapping={"title": "Product Name", "mpn": "MPN", "country": "Country of origin",
                                       "product_type": "Category"})
    return batches.batch_start(org_id=user.organisation_id, batch_id=batch.id, by=user, max_concurrent_jobs=1)


def batch_recovery(workers: Workers, run: int, user) -> tuple[float, int, int]:
    """Seconds from the kill until another worker works on the killed chunk's rows; calls cut short, repeats."""
    batch = _batch(user, 30)
    victim = workers.start(f"victim-b{run}")
    # Rows stay "claimed" while their chunk is computed (results are written per chunk): the victim is
    # in the middle of its work once a model call of the batch is on its way.
    held = wait_for(lambda: db.session.scalars(select(BatchRow.id).where(
        BatchRow.batch_id == batch.id, BatchRow.claimed_by.like(f"victim-b{run}%"),
        BatchRow.status.in_(("claimed", "processing")))).all())
    wait_for(lambda: db.session.scalar(select(func.count()).select_from(AICall).where(
        AICall.parent_type == "batch", AICall.parent_id == batch.id, AICall.finished.is_(False))))
    time.sleep(IMAGE_DELAY / 2)  # in the middle of a model call
    orphans = db.session.scalars(select(BatchRow.id).where(
        BatchRow.batch_id == batch.id, BatchRow.claimed_by.like(f"victim-b{run}%"),
        BatchRow.status.in_(("claimed", "processing")))).all() or held
    workers.kill(victim)
    killed = time.monotonic()
    workers.start(f"rescuer-b{run}")
    wait_for(lambda: db.session.scalar(select(func.count()).select_from(BatchRow).where(
        BatchRow.id.in_(orphans), BatchRow.claimed_by.like(f"rescuer-b{run}%"))))
    resumed = time.monotonic() - killed
    wait_for(lambda: db.session.scalar(select(Batch.status).where(Batch.id == batch.id)) in (
        BatchStatus.COMPLETED, BatchStatus.COMPLETED_WITH_ERRORS))
    calls = select(func.count()).select_from(AICall).where(AICall.parent_type == "batch", AICall.parent_id == batch.id)
    cut = db.session.scalar(calls.where(AICall.finished.is_(False)))
    repeats = db.session.scalar(calls.where(AICall.repeat_of_id.is_not(None)))
    return resumed, cut, repeats


def pipeline_recovery(workers: Workers, run: int, user) -> float | None:
    """Seconds from the kill (during analysis) until another worker runs the analysis again."""
    files = [(p.name, io.BytesIO(p.read_bytes())) for p in
             [PHOTOS / "ean13-9780140013993.webp", *[PHOTOS / "no-barcode-no-text.webp"] * 16]]
    product = pipeline.product_create(org_id=user.organisation_id, by=user, files=files, start=True).product
    product_id = product.id

    def analysis() -> ProductPhase:
        return db.session.get(Product, product_id).phase("analysis")

    victim = workers.start(f"victim-p{run}")
    wait_for(lambda: analysis().status == PhaseStatus.RUNNING)
    workers.kill(victim)
    killed = time.monotonic()
    db.session.rollback()
    if analysis().status != PhaseStatus.RUNNING:
        return None  # it finished before the kill landed: nothing to resume
    workers.start(f"rescuer-p{run}")
    wait_for(lambda: analysis().attempts >= 2)
    seconds = time.monotonic() - killed
    db.session.rollback()
    with write_intent():  # its later phases would keep the next scenario's worker busy
        pipeline.product_stop(org_id=user.organisation_id, product_id=product_id, by=user)
    return seconds


def _resumed(seconds: float | None) -> str:
    return "finished before the kill" if seconds is None else f"resumed {seconds:.1f} s after the kill"


def collection_recovery(workers: Workers, run: int, org, user) -> float | None:
    """Seconds from the kill (in the middle of a tech-file collection) until another worker runs it again."""
    from tests.techfiles.helpers import PHOTO_FILES, make_product

    db.session.rollback()
    with write_intent():  # a write after this process's reads: take the lock up front, as requests do
        product = make_product(org, user, photos=PHOTO_FILES * 4)
        collection_id = collection_start(org_id=org.id, product_id=product.id, by=user).id

    def units() -> int:
        return db.session.scalar(select(func.count()).select_from(CollectionItem).where(
            CollectionItem.collection_id == collection_id))

    victim = workers.start(f"victim-c{run}")
    wait_for(lambda: units() >= 2)
    workers.kill(victim)
    killed = time.monotonic()
    db.session.rollback()
    if db.session.get(Collection, collection_id).status != CollectionStatus.RUNNING:
        return None
    workers.start(f"rescuer-c{run}")
    wait_for(lambda: db.session.scalar(select(Collection.attempts).where(Collection.id == collection_id)) >= 2)
    return time.monotonic() - killed


def main() -> None:
    logging.disable(logging.WARNING)
    url, drop = scratch_database(TMP)
    redis_url = os.environ.get("REDIS_URL") or redis_server.ensure_running(TMP / "redis")
    model = QuietServer(("127.0.0.1", 0), ImageModel)
    threading.Thread(target=model.serve_forever, daemon=True).start()
    config = {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "REDIS_NAMESPACE": f"bench{uuid.uuid4().hex[:8]}",
              "UPLOAD_DIR": str(TMP / "uploads"), "IMAGE_API_URL": f"http://127.0.0.1:{model.server_port}/v1",
              "IMAGE_API_KEY": "bench", "IMAGE_MODEL": "stand-in", "IMAGE_PRICE_PER_IMAGE": "0.04",
              "OUTBOUND_ALLOW_CIDRS": "127.0.0.1/32"}
    app = create_app(config)
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, REDIS_NAMESPACE=config["REDIS_NAMESPACE"],
               UPLOAD_DIR=config["UPLOAD_DIR"], SECRET_KEY=app.config["SECRET_KEY"],
               ENCRYPTION_KEY=app.config["ENCRYPTION_KEY"], STOCKROOM_INSTANCE=str(TMP / "worker-instance"),
               **{k: config[k] for k in ("IMAGE_API_URL", "IMAGE_API_KEY", "IMAGE_MODEL", "IMAGE_PRICE_PER_IMAGE",
                                         "OUTBOUND_ALLOW_CIDRS")})
    workers = Workers(env, redis_url)
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(revision="heads")
            org = organisation_get_or_create("Bench Org")
            user = user_create(org_id=org.id, email="bench@bench.test", password="bench-password-1", role=Role.MANAGER)
            db.session.commit()
            print(f"database: {db.engine.dialect.name}; default leases: batch rows "
                  f"{app.config['BATCH_LEASE_SECONDS']} s, pipeline phases {app.config['PIPELINE_LEASE_SECONDS']} s, "
                  f"collections {app.config['TECHFILES_LEASE_SECONDS']} s; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            for run in range(1, RUNS + 1):
                fresh = anchor(workers, f"anchor-{run}", user)
                print(f"run {run}: anchor, a fresh worker from its start to its first row: {fresh:.1f} s", flush=True)
                # Each scenario alone: the rescuer of one must not pick up the next one's work.
                resumed, cut, repeats = workers.alone(batch_recovery, workers, run, user)
                print(f"run {run}: batch chunk resumed {resumed:.1f} s after the kill ({cut} model call(s) cut "
                      f"short, {repeats} recorded as repeats)", flush=True)
                phase = workers.alone(pipeline_recovery, workers, run, user)
                print(f"run {run}: pipeline phase {_resumed(phase)}", flush=True)
                collection = workers.alone(collection_recovery, workers, run, org, user)
                print(f"run {run}: tech-file collection {_resumed(collection)}", flush=True)
            db.session.remove()
            db.engine.dispose()
    finally:
        workers.stop_all()
        model.shutdown()
        drop()


if __name__ == "__main__":
    main()
