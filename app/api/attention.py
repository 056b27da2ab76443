"""/api/v1/attention: the caller's "needs a person" items, as on the to-do page, and what the page
does with one: take it (or give it back) and snooze it (or wake it)."""
from __future__ import annotations

from functools import wraps

from flask import request, url_for

from app.api.endpoints import caller, operation
from app.api.http import json_response
from app.api.schemas import AttentionAssignIn, AttentionItemOut, AttentionPage, AttentionQuery, AttentionSnoozeIn
from app.attention import selectors, services
from app.attention.selectors import Entry

ACTION = {"scope": "attention:write", "tag": "attention", "answer": AttentionItemOut}


def entry_out(entry: Entry) -> dict:
    item, mark = entry.item, entry.mark
    return AttentionItemOut(key=item.key, kind=item.kind, kind_label=entry.source.label, title=item.title,
                            why=item.why, level=item.level, since=item.since, url=url_for(item.endpoint, **item.args),
                            assigned_to=entry.assigned_to.email if entry.assigned_to else None,
                            snoozed_until=mark.snoozed_until if mark else None).model_dump(mode="json")


def in_queue(view):
    """An item that is not open in the caller's queue (resolved, another organisation's) is a 404,
    one of a kind their role does not resolve a 403, before the body is looked at."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        services.open_entry(caller(), kwargs["item_key"])
        return view(*args, **kwargs)

    return wrapped


@operation("GET", "/attention", scope="attention:read", tag="attention", query=AttentionQuery, answer=AttentionPage)
def attention_list():
    """Your open items, kind after kind in the order of the to-do page (snoozed ones left out).

    Items come and go as work is done, so a later page may repeat or miss one that changed meanwhile."""
    q = request.context.query
    entries, following, unavailable = selectors.open_items(caller(), kind=q.kind or "", mine=q.mine,
                                                           offset=int(q.cursor or 0), limit=q.limit)
    return json_response({"data": [entry_out(e) for e in entries], "unavailable": unavailable,
                          "next_cursor": None if following is None else str(following)})


@operation("POST", "/attention/<item_key>/assign", json=AttentionAssignIn, row=in_queue, **ACTION)
def attention_assign(item_key: str):
    """Take an item ("assign to me"), or give it back with `to_me: false`."""
    body = request.context.json or AttentionAssignIn()
    services.item_assign(item_key=item_key, to_me=body.to_me, by=caller())
    return json_response(entry_out(services.open_entry(caller(), item_key)))


@operation("POST", "/attention/<item_key>/snooze", json=AttentionSnoozeIn, row=in_queue, **ACTION)
def attention_snooze(item_key: str):
    """Put an item aside for everyone until a time (it leaves lists and counts), or wake it."""
    body = request.context.json or AttentionSnoozeIn()
    services.item_snooze(item_key=item_key, until=body.until, by=caller())
    return json_response(entry_out(services.open_entry(caller(), item_key)))
