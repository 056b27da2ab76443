"""The optional vision model: off by default; its answer is evidence; every call's tokens and cost stored."""
from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from app.extensions import db
from app.pipeline.models import Product, ProductStatus, ProviderCall
from tests.pipeline.helpers import BLANK_PHOTO, catalogue_item, create_product


class _StandIn(BaseHTTPRequestHandler):
    requests: list = []
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        answer = {"name": "Enamel camping mug", "brand": "Outdoorsy", "model": None, "gtin": None}
        payload = {"choices": [{"message": {"content": "```json\n" + json.dumps(answer) + "\n```"}}],
                   "usage": {"prompt_tokens": 1200, "completion_tokens": 40}}
        data = json.dumps(payload).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def stand_in(monkeypatch):
    _StandIn.requests, _StandIn.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("VISION_API_URL", f"http://127.0.0.1:{server.server_port}/v1")
    monkeypatch.setenv("VISION_MODEL", "vision-test")
    monkeypatch.setenv("VISION_API_KEY", "test-key")
    monkeypatch.setenv("VISION_PRICE_PROMPT", "0.15")
    monkeypatch.setenv("VISION_PRICE_COMPLETION", "0.60")
    yield _StandIn
    server.shutdown()


def test_off_by_default(org, manager, run_jobs, later_phases, monkeypatch):
    monkeypatch.delenv("VISION_API_URL", raising=False)
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    assert db.session.scalars(select(ProviderCall)).all() == []
    assert "vision" not in json.dumps(db.session.get(Product, product.id).evidence)


def test_answer_is_matched_as_evidence_and_the_call_is_costed(org, manager, run_jobs, later_phases, stand_in):
    catalogue_item(org, gtin="4006381333931", title="Enamel camping mug", sku="MUG-12", brand="Outdoorsy",
                   category="Kitchen")
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    product = db.session.get(Product, product.id)
    request = stand_in.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer test-key"
    assert request["body"]["model"] == "vision-test"
    assert request["body"]["messages"][0]["content"][1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert {"text": "Enamel camping mug", "source": "vision:name"} in product.evidence["texts_used"]
    assert product.name == "Enamel camping mug"
    assert product.confidence <= 85 and product.status == ProductStatus.COMPLETED  # text evidence only
    call = db.session.scalars(select(ProviderCall)).one()
    assert (call.prompt_tokens, call.completion_tokens, call.ok) == (1200, 40, True)
    assert call.cost == Decimal("0.000204") and call.currency == "USD" and call.product_id == product.id


def test_a_failing_provider_is_logged_and_costed_and_analysis_goes_on(org, manager, run_jobs, later_phases,
                                                                     stand_in):
    stand_in.status = 500
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    assert db.session.get(Product, product.id).status == ProductStatus.NEEDS_REVIEW
    call = db.session.scalars(select(ProviderCall)).one()
    assert call.ok is False and "500" in call.error
