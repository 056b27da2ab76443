"""The optional external image model, against a local stand-in speaking the images API."""
from __future__ import annotations

import base64
import io
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image
from sqlalchemy import select

from app.batches.models import Batch, BatchLog, BatchRow, BatchStatus
from app.core import storage
from app.core.ai_ledger import budget_set
from app.core.ai_models import AICall
from app.extensions import db
from tests.batches.helpers import products_csv, upload_and_start


def _png(colour=(20, 120, 200), size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


class _StandIn(BaseHTTPRequestHandler):
    calls: list[dict] = []
    mode = "ok"

    def do_POST(self):  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        mode = type(self).mode
        if mode == "error":
            self._send(500, b'{"error": {"message": "overloaded"}}')
        elif mode == "garbage":
            junk = base64.b64encode(b"\x89PNG\r\n\x1a\nthis is not really an image").decode()
            self._send(200, json.dumps({"data": [{"b64_json": junk}]}).encode())
        elif mode == "not-json":
            self._send(200, b"<html>gateway</html>")
        else:
            self._send(200, json.dumps({"created": 0, "data": [{"b64_json": base64.b64encode(_png()).decode()}]}).encode())

    def _send(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def image_model(app):
    _StandIn.calls, _StandIn.mode = [], "ok"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(IMAGE_API_URL=f"http://127.0.0.1:{server.server_port}/v1", IMAGE_API_KEY="img-key",
                      IMAGE_MODEL="stand-in-image-1", IMAGE_SIZE="512x512", IMAGE_API_TIMEOUT="10",
                      IMAGE_PRICE_PER_IMAGE="0.04", AI_RETRY_BACKOFF_SECONDS="0.01")
    yield _StandIn
    server.shutdown()
    server.server_close()


def _only_row() -> BatchRow:
    db.session.expire_all()
    return db.session.scalar(select(BatchRow))


def test_configured_image_model_makes_and_stores_both_images(manager_client, run_jobs, image_model):
    batch = upload_and_start(manager_client, products_csv(1))
    run_jobs()
    assert db.session.get(Batch, batch.id).status == BatchStatus.COMPLETED
    row = _only_row()
    images = row.results["images"]
    assert row.results["image_problems"] == []
    for style in ("lifestyle_emotional", "single_white_background"):
        image = images[style]
        assert image["generator"] == "stand-in-image-1" and image["note"] == "external image model"
        assert (image["width"], image["height"]) == (64, 48) and "fallback_reason" not in image
        with Image.open(storage.open_path(image["sha256"], image["suffix"])) as stored:
            assert stored.size == (64, 48)
            assert stored.convert("RGB").getpixel((10, 10)) == pytest.approx((20, 120, 200), abs=4)
    assert len(image_model.calls) == 2
    call = image_model.calls[0]
    assert call["path"] == "/v1/images/generations" and call["auth"] == "Bearer img-key"
    body = call["body"]
    assert {k: body[k] for k in ("model", "n", "size", "response_format")} == {
        "model": "stand-in-image-1", "n": 1, "size": "512x512", "response_format": "b64_json"}
    # The prompt sent is the row's own prompt for that style.
    assert body["prompt"] == row.results["prompts"]["lifestyle_emotional"]["text"]
    assert "Chain 1" in body["prompt"]
    response = manager_client.get(f"/batches/{batch.id}/rows/{row.id}/images/lifestyle_emotional")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    export = manager_client.get(f"/batches/{batch.id}/results.csv").get_data(as_text=True)
    assert "stand-in-image-1 (external image model)" in export
    page = manager_client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert "external image model" in page and "rendered locally" not in page
    calls = db.session.scalars(select(AICall)).all()
    assert [(c.capability, c.ok, c.cost, c.object_type, c.object_id, c.parent_type, c.parent_id) for c in calls] == [
        ("image", True, Decimal("0.04"), "batch_row", row.id, "batch", batch.id)] * 2
    assert "0.08 USD" in page and "2 calls" in page


@pytest.mark.parametrize("mode, reason", [
    ("error", "answered HTTP 500"),
    ("garbage", "sent an unusable image"),
    ("not-json", "not JSON"),
])
def test_failing_image_model_falls_back_to_local_cards_and_says_why(manager_client, run_jobs, image_model,
                                                                      mode, reason):
    image_model.mode = mode
    batch = upload_and_start(manager_client, products_csv(1))
    run_jobs()
    assert db.session.get(Batch, batch.id).status == BatchStatus.COMPLETED
    row = _only_row()
    assert row.retry_count == 0
    for style in ("lifestyle_emotional", "single_white_background"):
        image = row.results["images"][style]
        assert image["generator"] == "local-pillow-card" and "rendered locally" in image["note"]
        assert reason in image["fallback_reason"] and "stand-in-image-1" in image["fallback_reason"]
        assert storage.open_path(image["sha256"], image["suffix"]).exists()
    assert len(row.results["image_problems"]) == 2
    calls = db.session.scalars(select(AICall)).all()
    assert len(calls) == 2 and all(not c.ok and reason in c.error and c.object_id == row.id for c in calls)
    # Only a 5xx is worth a second try; an answer that came back broken is not asked again.
    assert [c.attempts for c in calls] == ([2, 2] if mode == "error" else [1, 1])
    assert len(image_model.calls) == (4 if mode == "error" else 2)
    logged = db.session.scalars(select(BatchLog).where(BatchLog.batch_id == batch.id,
                                                       BatchLog.operation == "image")).all()
    assert len(logged) == 2 and all(e.level == "warning" for e in logged)
    assert all(reason in e.message and "local card" in e.message and e.message.startswith(f"Row {row.row_number}: ")
               for e in logged), [e.message for e in logged]


def test_unreachable_image_model_falls_back(app, manager_client, run_jobs):
    with socket_closed_port() as port:
        app.config.update(IMAGE_API_URL=f"http://127.0.0.1:{port}/v1", IMAGE_API_TIMEOUT="5")
        upload_and_start(manager_client, products_csv(1))
        run_jobs()
    image = _only_row().results["images"]["single_white_background"]
    assert image["generator"] == "local-pillow-card" and "could not be reached" in image["fallback_reason"]


def test_bad_image_size_setting_is_reported_and_cards_are_used(app, manager_client, run_jobs, image_model):
    app.config["IMAGE_SIZE"] = "huge"
    upload_and_start(manager_client, products_csv(1))
    run_jobs()
    row = _only_row()
    assert image_model.calls == []
    assert "IMAGE_SIZE" in row.results["images"]["lifestyle_emotional"]["fallback_reason"]
    assert "IMAGE_SIZE" in row.results["image_problems"][0]


def test_without_image_api_url_no_request_is_made(manager_client, run_jobs):
    upload_and_start(manager_client, products_csv(1))
    run_jobs()
    row = _only_row()
    assert row.results["images"]["lifestyle_emotional"]["generator"] == "local-pillow-card"
    assert row.results["image_problems"] == []


def test_the_budget_hard_limit_stops_the_image_model(manager, manager_client, run_jobs, image_model):
    budget_set(org_id=manager.organisation_id, warning_amount="0", hard_limit="0", currency="USD",
               by=manager)
    batch = upload_and_start(manager_client, products_csv(1))
    run_jobs()
    row = _only_row()
    assert image_model.calls == [] and db.session.get(Batch, batch.id).status == BatchStatus.COMPLETED
    for style in ("lifestyle_emotional", "single_white_background"):
        image = row.results["images"][style]
        assert image["generator"] == "local-pillow-card" and "Monthly AI budget reached" in image["fallback_reason"]
    calls = db.session.scalars(select(AICall)).all()
    assert len(calls) == 2 and all(c.over_budget and c.capability == "image" for c in calls)
    page = manager_client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert "Monthly AI budget reached" in page and "2 not sent (budget)" in page


class socket_closed_port:  # noqa: N801 (used as a context manager)
    """A local port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()
