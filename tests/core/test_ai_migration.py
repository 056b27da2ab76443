"""Migration 0011: the pipeline's provider calls and the inbox's usage records move into ai_calls, and back."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.extensions import db
from app.inbox.models import Message
from tests.inbox.helpers import channel, post_json
from tests.pipeline.helpers import create_product

WHEN = datetime(2026, 3, 4, 5, 6, 7)


def _rows(sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _old_rows(org_id: int, product_id: int, message_id: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO provider_calls (organisation_id, product_id, phase, provider, model, ok, prompt_tokens, "
            "completion_tokens, cost, currency, duration_ms, error, created_at) VALUES "
            "(:org, :product, 'analysis', 'openai-compatible', 'vision-1', :yes, 1200, 40, 0.000204, 'USD', 850, "
            "NULL, :when), (:org, :product, 'market', 'http-json', '127.0.0.1:9', :no, 0, 0, NULL, 'USD', 12, "
            "'price provider answered HTTP 500', :when)"),
            {"org": org_id, "product": product_id, "yes": True, "no": False, "when": WHEN})
        conn.execute(text(
            "INSERT INTO usage_records (organisation_id, provider, message_id, calls, tokens_in, tokens_out, cost, "
            "currency, ok, created_at) VALUES (:org, 'text-model:tiny', :message, 1, 120, 30, 0.1050, 'USD', :yes, "
            ":when), (:org, 'text-model:tiny', NULL, 1, 0, 0, 0, 'EUR', :no, :when)"),
            {"org": org_id, "message": message_id, "yes": True, "no": False, "when": WHEN})


def test_old_call_records_move_into_ai_calls_and_back(app, org, manager, client):
    product = create_product(org, manager, start=False)
    post_json(client, channel(org.id), {"id": "mig-1", "from": "+15550100", "text": "2 bracelets"})
    message = db.session.query(Message).one()
    ids = (org.id, product.id, message.id, message.conversation_id)
    db.session.commit()
    db.session.remove()
    try:
        downgrade(revision="0010")
        _old_rows(*ids[:3])
        upgrade(revision="0011")
        calls = _rows("SELECT capability, provider, model, ok, prompt_tokens, completion_tokens, cost, currency, "
                      "object_type, object_id, parent_type, parent_id, over_budget, retried FROM ai_calls ORDER BY id")
        assert [c[:6] for c in calls] == [("vision", "openai-compatible", "vision-1", True, 1200, 40),
                                          ("price", "http-json", "127.0.0.1:9", False, 0, 0),
                                          ("text", "openai-compatible", "tiny", True, 120, 30),
                                          ("text", "openai-compatible", "tiny", False, 0, 0)]
        assert [Decimal(str(c[6])) if c[6] is not None else None for c in calls] == [
            Decimal("0.000204"), None, Decimal("0.105"), Decimal("0")]
        assert [c[8:12] for c in calls] == [("product", ids[1], None, None), ("product", ids[1], None, None),
                                            ("message", ids[2], "conversation", ids[3]), (None, None, None, None)]
        assert {bool(c[12]) or bool(c[13]) for c in calls} == {False}
        downgrade(revision="0010")
        assert _rows("SELECT phase, model, ok, prompt_tokens, product_id, error FROM provider_calls ORDER BY id") == [
            ("analysis", "vision-1", True, 1200, ids[1], None),
            ("market", "127.0.0.1:9", False, 0, ids[1], "price provider answered HTTP 500")]
        assert _rows("SELECT provider, message_id, tokens_in, tokens_out, currency, ok FROM usage_records "
                     "ORDER BY id") == [("text-model:tiny", ids[2], 120, 30, "USD", True),
                                        ("text-model:tiny", None, 0, 0, "EUR", False)]
    finally:
        db.engine.dispose()
        upgrade(revision="heads")
