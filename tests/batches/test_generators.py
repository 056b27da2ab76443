"""Trigger text, prompt templates (sandboxed, editable) and the optional external text model."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.batches.generate import mapped_fields, trigger_text
from app.batches.models import Batch, BatchLog, BatchRow, BatchStatus, PromptTemplate
from app.core.ai_ledger import budget_set
from app.core.ai_models import AICall
from app.extensions import db
from tests.batches.helpers import products_csv, upload_and_start


def test_trigger_text_is_normalised():
    fields = mapped_fields({"c": " Poland\u00a0", "t": "Neck\tlace", "s": "45  cm", "m": "GC-001", "d": "Line one\nline two",
                            "x": "kept"},
                           {"country": "c", "product_type": "t", "size": "s", "mpn": "m", "description": "d"})
    assert trigger_text(fields) == "country: Poland; product type: Neck lace; size: 45 cm; mpn: GC-001; Line one line two"
    assert fields["extra"] == {"x": "kept"}


def test_edited_template_is_used_and_named_in_results(manager_client, run_jobs):
    response = manager_client.post("/batches/prompts", data={
        "style": "lifestyle_emotional", "template": "Happy people wearing {{ title }} ({{ size }}) — {{ trigger }}"})
    assert response.status_code == 302
    batch = upload_and_start(manager_client, products_csv(1))
    run_jobs()
    row = db.session.scalar(select(BatchRow))
    prompt = row.results["prompts"]["lifestyle_emotional"]
    assert prompt["generator"] == "template:lifestyle_emotional:v1"
    assert prompt["text"].startswith("Happy people wearing Chain 1 (41 cm) — country: Poland")
    assert row.results["prompts"]["single_white_background"]["generator"] == "template:single_white_background:default"
    assert db.session.get(Batch, batch.id).status == BatchStatus.COMPLETED


@pytest.mark.parametrize("template, message", [
    ("{{ title.__class__.__mro__ }}", "cannot be used"),
    ("{{ unknown_variable }}", "cannot be used"),
    ("{% for %}", "cannot be used"),
    ("   ", "empty"),
])
def test_unsafe_or_broken_templates_are_refused(manager_client, template, message):
    response = manager_client.post("/batches/prompts", data={"style": "single_white_background", "template": template})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(PromptTemplate)) is None


class _StandIn(BaseHTTPRequestHandler):
    calls: list[dict] = []
    fail = False

    def do_POST(self):  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if type(self).fail:
            self.send_response(503)
            self.end_headers()
            return
        style = body["messages"][1]["content"].split(".")[0]
        answer = {"choices": [{"message": {"role": "assistant", "content": f"Model prompt for {style}"}}]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def text_model(app):
    _StandIn.calls, _StandIn.fail = [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(TEXT_API_URL=f"http://127.0.0.1:{server.server_port}/v1", TEXT_API_KEY="test-key",
                      TEXT_MODEL="stand-in-1", AI_RETRY_BACKOFF_SECONDS="0.01")
    yield _StandIn
    server.shutdown()


def test_external_text_model_writes_the_prompts_when_configured(manager_client, run_jobs, text_model):
    batch = upload_and_start(manager_client, products_csv(2))
    run_jobs()
    row = db.session.scalars(select(BatchRow).order_by(BatchRow.row_number)).first()
    prompts = row.results["prompts"]
    assert prompts["lifestyle_emotional"] == {"text": "Model prompt for Style: Lifestyle, emotional",
                                              "generator": "text-model:stand-in-1"}
    assert prompts["single_white_background"]["generator"] == "text-model:stand-in-1"
    assert len(text_model.calls) == 4
    call = text_model.calls[0]
    assert call["path"] == "/v1/chat/completions" and call["auth"] == "Bearer test-key"
    assert call["body"]["model"] == "stand-in-1" and "Chain 1" in call["body"]["messages"][1]["content"]
    calls = db.session.scalars(select(AICall)).all()
    assert len(calls) == 4 and {(c.capability, c.ok, c.parent_type, c.parent_id) for c in calls} == {
        ("text", True, "batch", batch.id)}
    rows = {r.id for r in db.session.scalars(select(BatchRow))}
    assert {c.object_type for c in calls} == {"batch_row"} and {c.object_id for c in calls} == rows


def test_a_failing_text_model_leaves_the_prompts_to_the_templates_and_says_why(app, manager_client, run_jobs,
                                                                              text_model):
    text_model.fail = True
    batch = upload_and_start(manager_client, products_csv(1))
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status == BatchStatus.COMPLETED
    row = db.session.scalar(select(BatchRow))
    assert row.retry_count == 0
    assert row.results["prompts"]["lifestyle_emotional"]["generator"].startswith("template:")
    assert "503" in row.results["image_problems"][0] and "prompt templates were used" in row.results["image_problems"][0]
    assert len(text_model.calls) == 2  # the first style's call, retried once; the row then takes the templates
    call = db.session.scalars(select(AICall)).one()
    assert not call.ok and call.retried and "503" in call.error and call.object_id == row.id
    logged = db.session.scalars(select(BatchLog).where(BatchLog.batch_id == batch.id, BatchLog.level == "warning"))
    assert any("prompt templates were used" in e.message for e in logged)
    page = manager_client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert 'data-testid="ai-cost"' in page and "1 failed" in page and "503" in page


def test_the_budget_hard_limit_stops_the_text_model(app, manager, manager_client, run_jobs, text_model):
    budget_set(org_id=manager.organisation_id, warning_amount="0", hard_limit="0", currency="USD",
               by=manager)
    batch = upload_and_start(manager_client, products_csv(1))
    run_jobs()
    row = db.session.scalar(select(BatchRow))
    assert text_model.calls == [] and row.results["prompts"]["lifestyle_emotional"]["generator"].startswith("template:")
    assert "Monthly AI budget reached" in row.results["image_problems"][0]
    call = db.session.scalars(select(AICall)).one()
    assert call.over_budget and call.capability == "text" and call.parent_id == batch.id
    page = manager_client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert "Monthly AI budget reached" in page and "not sent (budget)" in page
