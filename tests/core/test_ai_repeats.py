"""A model call cut short by a dying worker stays on the books as unfinished, and the call that
repeats it after the work resumed says so."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.core import ai, ai_ledger
from app.core.ai_models import AICall
from app.extensions import db
from tests.inbox.standins import HTTPStandIn


def _completion(content: str) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20}}


@pytest.fixture
def model(app):
    with HTTPStandIn([(200, _completion('{"ok": true}'))]) as server:
        app.config.update(TEXT_API_URL=server.url + "/v1", TEXT_API_KEY="k", TEXT_MODEL="tiny",
                          TEXT_PRICE_IN_PER_1K="0.5", TEXT_PRICE_OUT_PER_1K="1.5", AI_RETRY_BACKOFF_SECONDS="0.01")
        yield server


def _calls() -> list[AICall]:
    db.session.rollback()
    return db.session.scalars(select(AICall).order_by(AICall.id)).all()


def _ask(served):
    return ai.chat(ai.feature("text"), served, [{"role": "user", "content": "hi"}], json_answer=True, read=json.loads)


def test_a_call_cut_short_by_a_dying_worker_is_unfinished_and_its_repeat_says_so(org, model, monkeypatch):
    served = ai.Served(org.id, "batch_row", 41, "batch", 7)

    def worker_dies(*args, **kwargs):
        raise SystemExit(137)  # as far as this code can tell, the process ends here (kill -9)

    with monkeypatch.context() as patch:
        patch.setattr(ai.http, "request", worker_dies)
        with pytest.raises(SystemExit):
            _ask(served)
    [cut] = _calls()
    assert not cut.finished and cut.error is None  # in flight, as far as anyone can know yet

    reply = _ask(served)
    assert reply.value == {"ok": True}
    cut, repeat = _calls()
    assert not cut.finished and cut.error == ai_ledger.UNFINISHED
    assert repeat.finished and repeat.ok and repeat.repeat_of_id == cut.id
    assert repeat.cost is not None and repeat.prompt_tokens == 100
    _ask(served)  # the next call for the same object repeats nothing
    assert _calls()[-1].repeat_of_id is None


def test_calls_for_other_objects_or_after_a_finished_call_are_not_repeats(org, other_org, model):
    _ask(ai.Served(org.id, "batch_row", 1, "batch", 7))
    _ask(ai.Served(org.id, "batch_row", 1, "batch", 7))
    ai_ledger.record_start(served=ai.Served(other_org.id, "batch_row", 2, "batch", 8), capability="text",
                           provider="test")
    _ask(ai.Served(org.id, "batch_row", 2, "batch", 7))
    assert [c.repeat_of_id for c in _calls()] == [None, None, None, None]
