"""The optional vision model: off by default; its answer is evidence; every call's tokens and cost stored
in ai_calls against the product, retries marked, and the monthly budget's hard limit respected."""
from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from app.core.ai_ledger import budget_set
from app.core.ai_models import AICall
from app.extensions import db
from app.pipeline.models import Product, ProductStatus
from tests.pipeline.helpers import BLANK_PHOTO, catalogue_item, create_product


class _StandIn(BaseHTTPRequestHandler):
    requests: list = []
    status = 200
    statuses: list = []  # answered first, one per request, before `status`

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        status = type(self).statuses.pop(0) if type(self).statuses else type(self).status
        answer = {"name": "Enamel camping mug", "brand": "Outdoorsy", "model": None, "gtin": None}
        payload = {"choices": [{"message": {"content": "```json\n" + json.dumps(answer) + "\n```"}}],
                   "usage": {"prompt_tokens": 1200, "completion_tokens": 40}}
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
    _StandIn.requests, _StandIn.status, _StandIn.statuses = [], 200, []
    server = HTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(VISION_API_URL=f"http://127.0.0.1:{server.server_port}/v1", VISION_MODEL="vision-test",
                      VISION_API_KEY="test-key", VISION_PRICE_PROMPT="0.15", VISION_PRICE_COMPLETION="0.60",
                      AI_RETRY_BACKOFF_SECONDS="0.01")
    yield _StandIn
    server.shutdown()


def test_off_by_default(app, org, manager, run_jobs, later_phases):
    assert not app.config["VISION_API_URL"]
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    assert db.session.scalars(select(AICall)).all() == []
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
    call = db.session.scalars(select(AICall)).one()
    assert (call.capability, call.provider, call.model) == ("vision", "openai-compatible", "vision-test")
    assert (call.prompt_tokens, call.completion_tokens, call.ok, call.retried) == (1200, 40, True, False)
    assert call.cost == Decimal("0.000204") and call.currency == "USD"
    assert (call.organisation_id, call.object_type, call.object_id) == (org.id, "product", product.id)


def test_a_failing_provider_is_logged_and_costed_and_analysis_goes_on(org, manager, run_jobs, later_phases,
                                                                     stand_in):
    stand_in.status = 500
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    assert db.session.get(Product, product.id).status == ProductStatus.NEEDS_REVIEW
    assert len(stand_in.requests) == 2  # one retry for a 5xx, then the offline evidence alone
    call = db.session.scalars(select(AICall)).one()
    assert call.ok is False and "500" in call.error and call.retried and call.attempts == 2
    assert call.object_id == product.id


def test_a_retried_call_is_one_row_marked_retried(org, manager, run_jobs, later_phases, stand_in):
    stand_in.statuses = [503]
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    assert len(stand_in.requests) == 2
    call = db.session.scalars(select(AICall)).one()
    assert call.ok and call.retried and call.attempts == 2 and call.prompt_tokens == 1200
    assert {"text": "Enamel camping mug", "source": "vision:name"} in db.session.get(Product, product.id).evidence[
        "texts_used"]


def test_the_budget_hard_limit_stops_the_vision_model_and_the_product_page_says_so(
        org, manager, manager_client, run_jobs, later_phases, stand_in):
    budget_set(org_id=org.id, warning_amount="0", hard_limit="0", currency="USD", by=manager)
    product = create_product(org, manager, BLANK_PHOTO)
    run_jobs()
    assert stand_in.requests == []
    call = db.session.scalars(select(AICall)).one()
    assert call.over_budget and not call.ok and call.cost == 0 and call.object_id == product.id
    assert "vision" not in json.dumps(db.session.get(Product, product.id).evidence.get("texts_used", []))
    page = manager_client.get(f"/products/{product.id}").get_data(as_text=True)
    assert 'data-testid="ai-cost"' in page and "Monthly AI budget reached" in page and "offline path" in page
