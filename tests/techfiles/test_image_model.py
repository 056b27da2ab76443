"""The optional external image model, against a stand-in server speaking the OpenAI-style image edit call:
every call recorded against its collection; a failure or the budget's hard limit keeps the offline image."""
from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image, ImageOps
from sqlalchemy import select

from app.core import storage
from app.core.ai_ledger import budget_set
from app.core.ai_models import AICall
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
                      TECHFILES_IMAGE_MODEL_KINDS="sketch", TECHFILES_IMAGE_MODEL_PRICE_PER_IMAGE="0.02",
                      AI_RETRY_BACKOFF_SECONDS="0.01")
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
    call = db.session.scalars(select(AICall)).one()
    assert (call.capability, call.model, call.ok, str(call.cost)) == ("image", "sketcher-2", True, "0.020000")
    assert (call.object_type, call.object_id, call.parent_type, call.parent_id) == (
        "collection", c.id, "product", product.id)


@pytest.mark.parametrize("answers, reason, attempts", [
    ([(500, {"error": "boom"})] * 2, "image model answered HTTP 500", 2),
    ([(200, {"data": [{"b64_json": base64.b64encode(b"not an image").decode()}]})], "image that is unusable", 1),
])
def test_a_failing_model_keeps_the_offline_image_and_says_why(stand_in, org, manager, manager_client, run_jobs,
                                                              answers, reason, attempts):
    product = make_product(org, manager, photos=("label.webp",))
    stand_in.answers = list(answers)
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="sketches", by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.status == CollectionStatus.COMPLETED and len(c.items) == 1
    sketch = c.items[0].tech_file
    assert sketch.generator == "stockroom.sketch" and reason in sketch.analysis["image_model"]["fallback_reason"]
    call = db.session.scalars(select(AICall)).one()
    assert not call.ok and reason in call.error and call.attempts == attempts and call.object_id == c.id
    page = manager_client.get(f"/techfiles/collections/{c.id}").get_data(as_text=True)
    assert 'data-testid="ai-cost"' in page and reason in page and "offline path" in page


def test_the_budget_hard_limit_stops_the_image_model(stand_in, org, manager, manager_client, run_jobs):
    budget_set(org_id=org.id, warning_amount="0", hard_limit="0", currency="USD", by=manager)
    product = make_product(org, manager, photos=("label.webp",))
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="sketches", by=manager)
    run_jobs()
    db.session.refresh(c)
    assert stand_in.seen == [] and c.status == CollectionStatus.COMPLETED
    sketch = c.items[0].tech_file
    assert sketch.generator == "stockroom.sketch"
    assert "Monthly AI budget reached" in sketch.analysis["image_model"]["fallback_reason"]
    call = db.session.scalars(select(AICall)).one()
    assert call.over_budget and (call.object_type, call.object_id) == ("collection", c.id)
    page = manager_client.get(f"/techfiles/collections/{c.id}").get_data(as_text=True)
    assert "Monthly AI budget reached" in page and "1 not sent (budget)" in page


def test_off_by_default(app, org, manager, run_jobs):
    assert not app.config.get("TECHFILES_IMAGE_MODEL_URL")
    product = make_product(org, manager, photos=("label.webp",))
    c = collections.collection_start(org_id=org.id, product_id=product.id, kind="sketches", by=manager)
    run_jobs()
    db.session.refresh(c)
    assert c.items[0].tech_file.generator == "stockroom.sketch"
