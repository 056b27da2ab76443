"""The reader inside the inbox: parts not understood block the order until resolved, kinds are labelled,
"the usual" proposes the last order, the text model is held to the same rules, and the command line
reads offline without a database or Redis."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.inbox.review_models import Extraction, ExtractionStatus
from app.orders.models import Order
from app.orders.services import order_confirm, order_create
from tests.inbox.helpers import channel, make_catalogue, post_json
from tests.inbox.standins import HTTPStandIn

ROOT = Path(__file__).resolve().parents[2]


def _message(client, run_jobs, org_id: int, text: str, ident: str, sender: str = "+15550042") -> Extraction:
    post_json(client, channel(org_id), {"id": ident, "from": sender, "text": text, "name": "Nia"})
    run_jobs()
    return db.session.scalar(select(Extraction).order_by(Extraction.id.desc()))


def test_part_not_understood_blocks_the_order_until_a_person_resolves_it(app, org, client, staff_client, run_jobs):
    items = make_catalogue(org.id)
    extraction = _message(client, run_jobs, org.id, "2 Rose Quartz Bracelet and 5 moon pendants", "p-1")
    assert extraction.status == ExtractionStatus.REVIEW and extraction.kind == "order"
    assert [(x.item_id, x.quantity) for x in extraction.lines if x.item_id] == [(items["BR-300"].id, 2)]
    part = extraction.not_understood[0]
    assert part["text"] == "5 moon pendants" and part["quantity"] == 5
    panel = staff_client.get(f"/inbox/c/{extraction.message.conversation_id}").get_data(as_text=True)
    assert '<mark class="not-understood"' in panel and "Create order and reserve stock" not in panel
    assert staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm").status_code == 409

    bad = staff_client.htmx("post", f"/inbox/x/{extraction.id}/understood", data={"index": "nine"})
    assert bad.status_code == 422 and b"Choose a part" in bad.data
    no_token = staff_client.post(f"/inbox/x/{extraction.id}/understood", data={"index": "0"}, csrf=False)
    assert no_token.status_code == 400
    done = staff_client.htmx("post", f"/inbox/x/{extraction.id}/understood", data={"index": "0"})
    assert done.status_code == 200 and b"handled" in done.data
    again = staff_client.htmx("post", f"/inbox/x/{extraction.id}/understood", data={"index": "0"})
    assert again.status_code == 422
    unknown = next(x for x in db.session.get(Extraction, extraction.id).lines if x.item_id is None)
    staff_client.htmx("post", f"/inbox/lines/{unknown.id}/remove")
    response = staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Order.id))) == 1


def test_questions_cancellations_and_others_are_labelled_and_make_no_lines(app, org, client, staff_client, run_jobs):
    make_catalogue(org.id)
    for n, (text, kind) in enumerate([("How much are the rose quartz bracelets?", "question"),
                                      ("Please cancel my 2 silver hoop earrings", "cancellation"),
                                      ("The necklace arrived broken", "other")]):
        extraction = _message(client, run_jobs, org.id, text, f"k-{n}", sender=f"+1555010{n}")
        assert extraction.kind == kind and extraction.status == ExtractionStatus.REVIEW
        assert not extraction.active_lines and not extraction.can_confirm
    listing = staff_client.get("/inbox/").get_data(as_text=True)
    for label in ("question", "cancellation", "not an order"):
        assert f">{label}</span>" in listing


def test_the_usual_proposes_the_last_order_for_review(app, org, staff, client, staff_client, run_jobs):
    items = make_catalogue(org.id)
    first = _message(client, run_jobs, org.id, "3 Silver Hoop Earrings", "u-1")
    customer = first.message.conversation.customer
    order = order_create(org_id=org.id, customer={"id": customer.id, "name": customer.name}, by=staff,
                         lines=[{"item_id": items["NEC-200"].id, "quantity": 4, "customisation": None}])
    order_confirm(org_id=org.id, order_id=order.id, by=staff)
    extraction = _message(client, run_jobs, org.id, "Hi! Same as last time please", "u-2")
    assert extraction.status == ExtractionStatus.REVIEW
    assert [(x.item_id, x.quantity, x.status) for x in extraction.lines] == [(items["NEC-200"].id, 4, "suggested")]
    assert order.number in extraction.not_understood[0]["reason"] and not extraction.can_confirm
    staff_client.htmx("post", f"/inbox/x/{extraction.id}/understood", data={"index": "0"})
    assert staff_client.htmx("post", f"/inbox/x/{extraction.id}/confirm").status_code == 200
    assert db.session.scalar(select(func.count(Order.id))) == 2


def _completion(lines: list[dict]) -> dict:
    content = {"lines": lines, "wanted_date": None, "address": ""}
    return {"choices": [{"message": {"content": json.dumps(content)}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5}}


def test_text_model_disagreeing_sends_to_review_with_both_readings(app, org, client, staff_client, run_jobs):
    items = make_catalogue(org.id)
    agree = _completion([{"quantity": 2, "unit": "", "product": "rose quartz bracelet"}])
    differ = _completion([{"quantity": 2, "unit": "", "product": "rose quartz bracelet"},
                          {"quantity": 1, "unit": "", "product": "gold chain necklace"}])
    with HTTPStandIn([(200, agree), (200, differ)]) as model:
        app.config.update(TEXT_API_URL=model.url, TEXT_MODEL="tiny")
        same = _message(client, run_jobs, org.id, "2 Rose Quartz Bracelet please", "t-1")
        other = _message(client, run_jobs, org.id, "2 Rose Quartz Bracelet please", "t-2", sender="+15550043")
    assert same.status == ExtractionStatus.READY and same.other_reading is None
    assert "agree" in same.provider_note
    assert other.status == ExtractionStatus.REVIEW and other.other_reading["provider"] == "offline"
    assert sorted((x.item_id, x.quantity) for x in other.lines) == sorted(
        [(items["BR-300"].id, 2), (items["NEC-200"].id, 1)])
    assert other.other_reading["lines"][0]["sku"] == "BR-300" and len(other.other_reading["lines"]) == 1
    page = staff_client.get(f"/inbox/c/{other.message.conversation_id}").get_data(as_text=True)
    assert "Two readings disagree" in page and "Create order and reserve stock" not in page


def test_text_model_answer_passes_the_same_no_silent_drop_check(app, org, client, run_jobs):
    make_catalogue(org.id)
    dropped = _completion([{"quantity": 2, "unit": "", "product": "rose quartz bracelet"}])
    with HTTPStandIn([(200, dropped)]) as model:
        app.config.update(TEXT_API_URL=model.url)
        extraction = _message(client, run_jobs, org.id, "2 Rose Quartz Bracelet and 4 moon pendants", "t-3")
    # the model left out "4 moon pendants"; the offline reading lists it, so the message waits for a person
    assert extraction.status == ExtractionStatus.REVIEW and extraction.open_parts
    assert extraction.open_parts[0]["text"] == "4 moon pendants"


def test_read_command_works_offline_without_database_or_redis(tmp_path):
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text(json.dumps([{"sku": "SN-45", "title": "Snake Chain Necklace 45cm", "aliases": []},
                                     {"sku": "SN-50", "title": "Snake Chain Necklace 50cm", "aliases": ["long snake"]}]))
    messages = "\n".join(json.dumps({"text": t}) for t in [
        "Hola, quiero 3 collares serpiente de 45cm y dos long snake", "How much is the snake chain?",
        "2 snake chains and 3 moon pendants"]) + "\n"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(STOCKROOM_INSTANCE=str(tmp_path / "instance"), DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "inbox", "read", "--catalogue",
                           str(catalogue), "--json"], input=messages, capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["kind"] for a in answers] == ["order", "question", "order"]
    assert sorted((x["sku"], x["quantity"]) for x in answers[0]["lines"]) == [("SN-45", 3), ("SN-50", 2)]
    assert answers[0]["one_click"] is True and answers[1]["lines"] == [] and answers[1]["one_click"] is False
    assert answers[2]["one_click"] is False and len(answers[2]["not_understood"]) == 2
    assert set(answers[0]) == {"text", "kind", "one_click", "confidence", "lines", "not_understood"}
    assert not (tmp_path / "instance" / "redis").exists()
    assert not list((tmp_path / "instance").glob("*.db"))
