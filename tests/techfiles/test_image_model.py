"""The optional external image model, against a stand-in server speaking the OpenAI-style image edit call."""
from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image, ImageOps

from app.core import storage
from app.extensions import db
from app.techfiles import collections
from app.techfiles.models import CollectionStatus, FileType
from tests.techfiles.helpers import make_product


class StandIn(BaseHTTPRequestHandler):
    answers: list = []
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        StandIn.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        status, payload = StandIn.answers.pop(0) if StandIn.answers else (200, None)
        if payload is None:  # invert the uploaded PNG: a visible, checkable transformation
            start = body.index(b"\x89PNG")
            end = body.rindex(b"\r\n--")
            image = ImageOps.invert(Image.open(io.BytesIO(body[start:end])).convert("RGB"))
            out = io.BytesIO()
            image.save(out, "PNG")
            payload = {"data": [{"b64_json": base64.b64encode(out.getvalue()).decode()}]}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def stand_in(app):
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StandIn.answers, StandIn.seen = [], []
    app.config.update(TECHFILES_IMAGE_MODEL_URL=f"http://127.0.0.1:{server.server_port}/v1",
                      TECHFILES_IMAGE_MODEL="sketcher-2", TECHFILES_IMAGE_MODEL_TOKEN="sekrit",
                      TECHFILES_IMAGE_MODEL_KINDS="sketch")
    yield StandIn
    server.shutdown()


def test_sketches_go_through_the_model_when_configured(stand_in, org, manager, run_jobs):
    product = make_product(org, manager, photos=("label.webp",))
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="tech_pack", by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.COMPLETED, c.error
    assert len(stand_in.seen) == 1 and stand_in.seen[0]["path"] == "/v1/images/edits"
    assert stand_in.seen[0]["auth"] == "Bearer sekrit" and b"sketcher-2" in stand_in.seen[0]["body"]
    files = {i.tech_file.file_type: i.tech_file for i in c.items}
    sketch, base = files[FileType.SKETCH], files[FileType.BASE_VIEW]
    assert sketch.generator == "image-model:openai-compatible" and sketch.model == "sketcher-2"
    assert "line drawing" in sketch.parameters["prompt"] and sketch.confidence is None
    assert sketch.analysis["image_model"]["model"] == "sketcher-2" and "edges" in sketch.analysis["offline"]
    with Image.open(storage.open_path(sketch.sha256)) as im:
        # the offline drawing is black on white; the stand-in inverted it
        assert im.convert("L").getpixel((2, 2)) < 10
    assert base.generator == "stockroom.base_view"  # other types stay offline


def test_a_failing_model_fails_the_step_with_its_reason(stand_in, org, manager, run_jobs):
    product = make_product(org, manager, photos=("label.webp",))
    stand_in.answers = [(500, {"error": "boom"})]
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="sketches", by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.FAILED and "image model answered HTTP 500" in c.error
    stand_in.answers = [(200, {"data": [{"b64_json": base64.b64encode(b"not an image").decode()}]})]
    collections.collection_retry(org_id=org.id, collection_id=c.id, by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.FAILED and "image is unusable" in c.error
    collections.collection_retry(org_id=org.id, collection_id=c.id, by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.COMPLETED and len(c.items) == 1


def test_off_by_default(app, org, manager, run_jobs):
    assert not app.config.get("TECHFILES_IMAGE_MODEL_URL")
    product = make_product(org, manager, photos=("label.webp",))
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="sketches", by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.items[0].tech_file.generator == "stockroom.sketch"
