"""The one AI client against a local OpenAI-compatible stand-in: one ai_calls row per call, costs from the
settings, the organisation's budget, and the sums pages show."""
from __future__ import annotations

import base64
import io
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.core import ai, ai_ledger
from app.core.ai_models import AICall
from app.core.models import utcnow
from app.extensions import db
from app.inbox.models import Message
from app.inbox.review_models import Extraction
from tests.inbox.helpers import channel, post_json
from tests.inbox.standins import HTTPStandIn
from tests.orders.helpers import make_item, make_order


def _completion(content: str, tokens=(120, 30)) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": tokens[0], "completion_tokens": tokens[1]}}


def _png_b64() -> str:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def _calls() -> list[AICall]:
    db.session.rollback()  # a fresh read: the calls were written on their own connections
    return db.session.scalars(select(AICall).order_by(AICall.id)).all()


@pytest.fixture
def model(app):
    with HTTPStandIn([(200, _completion('{"ok": true}'))]) as server:
        app.config.update(TEXT_API_URL=server.url + "/v1", TEXT_API_KEY="k", TEXT_MODEL="tiny",
                          TEXT_PRICE_IN_PER_1K="0.5", TEXT_PRICE_OUT_PER_1K="1.5", TEXT_PRICE_CURRENCY="eur",
                          IMAGE_API_URL=server.url + "/v1", IMAGE_MODEL="painter", IMAGE_PRICE_PER_IMAGE="0.04",
                          AI_RETRY_BACKOFF_SECONDS="0.01")
        yield server


def test_a_chat_is_one_row_with_its_tokens_cost_and_object(org, model):
    served = ai.Served(org.id, "message", 7, "conversation", 3)
    reply = ai.chat(ai.feature("text"), served, [{"role": "user", "content": "hi"}], json_answer=True, read=json.loads)
    assert reply.value == {"ok": True} and (reply.prompt_tokens, reply.completion_tokens) == (120, 30)
    assert reply.cost == Decimal("0.105") and reply.currency == "EUR" and not reply.retried
    sent = json.loads(model.requests[0]["body"])
    assert model.requests[0]["path"] == "/v1/chat/completions" and model.requests[0]["headers"]["Authorization"] == "Bearer k"
    assert sent["model"] == "tiny" and sent["response_format"] == {"type": "json_object"}
    [call] = _calls()
    assert (call.organisation_id, call.capability, call.provider, call.model, call.ok) == (
        org.id, "text", "openai-compatible", "tiny", True)
    assert (call.prompt_tokens, call.completion_tokens, call.cost, call.currency) == (120, 30, Decimal("0.105"), "EUR")
    assert (call.object_type, call.object_id, call.parent_type, call.parent_id) == ("message", 7, "conversation", 3)
    assert call.error is None and call.over_budget is False and call.attempts == 1


def test_images_are_generated_or_edited_one_row_each(org, model):
    model.responses = [(200, {"data": [{"b64_json": _png_b64()}], "usage": {"input_tokens": 9, "output_tokens": 0}})]
    served = ai.Served(org.id, "batch_row", 11, "batch", 2)
    made = ai.images(ai.feature("image"), served, "a red square", size="256x256")
    edited = ai.images(ai.feature("image"), served, "invert it", image=b"\x89PNG fake")
    assert made.value.startswith(b"\x89PNG") and edited.value == made.value
    assert [r["path"] for r in model.requests] == ["/v1/images/generations", "/v1/images/edits"]
    assert json.loads(model.requests[0]["body"])["size"] == "256x256"
    assert b'name="prompt"\r\n\r\ninvert it' in model.requests[1]["body"]
    calls = _calls()
    assert [(c.capability, c.model, c.cost, c.prompt_tokens, c.object_id) for c in calls] == [
        ("image", "painter", Decimal("0.04"), 9, 11)] * 2


def test_a_broken_answer_is_recorded_as_failed_with_its_tokens(org, model):
    model.responses = [(200, _completion("not json", tokens=(50, 10)))]
    with pytest.raises(ai.AIError) as failure:
        ai.chat(ai.feature("text"), ai.Served(org.id), [], read=json.loads)
    assert str(failure.value).startswith("text model answered outside the expected form")
    [call] = _calls()
    assert not call.ok and (call.prompt_tokens, call.completion_tokens) == (50, 10) and call.cost == Decimal("0.04")
    assert "outside the expected form" in call.error


def test_a_retried_call_is_one_row_marked_retried(org, model):
    model.responses = [(502, {"error": "bad gateway"}), (200, _completion("fine"))]
    reply = ai.chat(ai.feature("text"), ai.Served(org.id, "product", 5), [])
    assert reply.value == "fine" and reply.retried and len(model.requests) == 2
    [call] = _calls()
    assert call.ok and call.retried and call.attempts == 2


def test_a_server_that_is_down_is_one_failed_row(org, app):
    app.config.update(TEXT_API_URL="http://127.0.0.1:9/v1", AI_RETRY_BACKOFF_SECONDS="0.01")
    with pytest.raises(ai.AIError) as failure:
        ai.chat(ai.feature("text"), ai.Served(org.id, "product", 5), [])
    assert str(failure.value) == "text model could not be reached (could not connect)"
    [call] = _calls()
    assert not call.ok and call.attempts == 2 and call.error == str(failure.value) and call.cost is None


def test_an_unexpected_error_is_recorded_and_raised(org, model):
    def read(_content):
        raise RuntimeError("a bug in the caller")

    with pytest.raises(RuntimeError):
        ai.chat(ai.feature("text"), ai.Served(org.id), [], read=read)
    [call] = _calls()
    assert not call.ok and "RuntimeError: a bug in the caller" in call.error


def test_no_transaction_with_pending_writes_is_held_during_a_call(org, model):
    org.name = "Renamed but not committed"
    with pytest.raises(RuntimeError, match="commit before calling a model"):
        ai.chat(ai.feature("text"), ai.Served(org.id), [])
    assert model.requests == []
    db.session.rollback()


def test_the_hard_limit_refuses_the_call_records_why_and_sends_nothing(org, manager, model):
    ai_ledger.budget_set(org_id=org.id, warning_amount="0.05", hard_limit="0.10", currency="EUR",
                         by=manager)
    ai.chat(ai.feature("text"), ai.Served(org.id), [])  # 0.105 EUR: over the limit from now on
    for capability in ("vision", "price", "text", "image"):
        assert ai.allowed(org.id, capability) == (False, "Monthly AI budget reached (0.105 of 0.10 EUR)")
    with pytest.raises(ai.OverBudget, match="Monthly AI budget reached"):
        ai.chat(ai.feature("text"), ai.Served(org.id, "message", 8), [])
    assert len(model.requests) == 1
    refused = _calls()[-1]
    assert refused.over_budget and not refused.ok and refused.cost == 0 and refused.object_id == 8


def test_budget_levels_count_this_month_in_the_budget_currency_only(org, other_org, manager):
    def spend(org_id, cost, currency="USD", **kw):
        ai_ledger.record(served=ai.Served(org_id), capability="vision", provider="p", ok=True, cost=Decimal(cost),
                         currency=currency, **kw)
        db.session.rollback()  # the next read sees it (the row was written on its own connection)

    assert ai.allowed(org.id, "vision") == (True, "")
    with pytest.raises(ValueError):
        ai.allowed(org.id, "telepathy")
    ai_ledger.budget_set(org_id=org.id, warning_amount="1", hard_limit="2", currency="USD", by=manager)
    spend(org.id, "1.50")
    assert ai_ledger.budget_state(org.id)["level"] == "warning" and ai.allowed(org.id, "text")[0]
    spend(org.id, "9", "EUR")
    spend(other_org.id, "9")
    spend(org.id, "9", created_at=ai_ledger.month_start() - timedelta(seconds=1))
    state = ai_ledger.budget_state(org.id)
    assert (state["spend"], state["level"], state["other"]) == (Decimal("1.5"), "warning", {"EUR": Decimal("9")})
    spend(org.id, "0.50")
    assert ai_ledger.budget_state(org.id)["level"] == "stopped" and not ai.allowed(org.id, "image")[0]


def test_a_thousand_calls_sum_to_the_monthly_total(app, org, other_org, manager_client):
    start, expected = ai_ledger.month_start(), Decimal("0")
    for i in range(1000):
        cost = Decimal(i % 97) / Decimal(1000) + Decimal("0.000001") * i
        when = start + timedelta(minutes=i)
        if when > utcnow():
            when = utcnow()
        expected += cost
        ai_ledger.record(served=ai.Served(org.id, "product", i % 7), capability=("vision", "price", "text", "image")[i % 4],
                         provider="p", model="m", ok=i % 10 != 0, cost=cost, created_at=when)
    ai_ledger.record(served=ai.Served(org.id), capability="text", provider="p", ok=True, cost=Decimal("5"),
                     created_at=start - timedelta(microseconds=1))
    ai_ledger.record(served=ai.Served(other_org.id), capability="text", provider="p", ok=True, cost=Decimal("5"))
    db.session.rollback()
    assert db.session.scalar(select(func.count(AICall.id)).where(AICall.organisation_id == org.id)) == 1001
    assert ai_ledger.month_spend(org.id, "USD") == expected == Decimal("46.995") + Decimal("0.4995")
    rows = ai_ledger.month_rows(org.id)
    assert sum(r["calls"] for r in rows) == 1000 and sum(r["cost"] for r in rows) == expected
    assert sum(r["failed"] for r in rows) == 100
    page = manager_client.get("/inbox/usage").get_data(as_text=True)
    assert f"{expected:.2f}" in page and 'data-testid="by-capability"' in page and "Products" in page


def test_pages_show_their_own_organisations_cost_and_an_order_gathers_its_messages(
        app, org, other_org, client, staff, staff_client, run_jobs):
    post_json(client, channel(org.id), {"id": "ai-1", "from": "+15550111", "text": "hello"})
    run_jobs()
    message = db.session.scalar(select(Message))
    order = make_order(org.id, [(make_item(org.id, "AI-1", stock=5), 1)], by=staff)
    db.session.scalar(select(Extraction)).order_id = order.id
    db.session.commit()
    for org_id, cost in ((org.id, "0.25"), (other_org.id, "7")):
        ai_ledger.record(served=ai.Served(org_id, "message", message.id, "conversation", message.conversation_id),
                         capability="text", provider="p", model="tiny", ok=True, cost=Decimal(cost))
    for url in (f"/inbox/c/{message.conversation_id}", f"/orders/{order.id}"):
        page = staff_client.get(url).get_data(as_text=True)
        assert 'data-testid="ai-cost"' in page and "0.25 USD" in page and "7.00 USD" not in page, url
    summary = ai_ledger.object_costs(other_org.id, "order", order.id)
    assert summary["calls"] == 0


def test_a_malformed_setting_is_named(app):
    app.config.update(VISION_API_URL="http://127.0.0.1:9", VISION_MODEL="v", VISION_API_TIMEOUT="soon")
    with pytest.raises(ai.AIError, match="VISION_API_TIMEOUT must be a number"):
        ai.feature("vision")
    app.config.update(VISION_API_TIMEOUT="30", VISION_PRICE_PROMPT="0.15", VISION_PRICE_COMPLETION="0.60")
    assert ai.feature("vision").cost(1200, 40) == Decimal("0.000204")  # prices per million tokens
    assert ai.feature("price") is None and not ai.enabled("techfiles_image")


def test_no_outbound_client_but_core_http():
    root = Path(__file__).resolve().parents[2] / "app"
    raw_clients = ("urllib.request", "import http.client", "import requests", "import httpx")
    users = [str(p.relative_to(root)) for p in root.rglob("*.py") if any(c in p.read_text() for c in raw_clients)]
    assert users == ["core/http.py"]
