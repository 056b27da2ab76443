"""The home page: summary cards from every domain, and the worker ping."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from app.core import pings
from app.core.jobs import alive_worker_count
from app.core.nav import CARDS, cards_for, register_card
from app.core.queue import REDIS_DOWN

bp = Blueprint("dashboard", __name__)


def _workers_card(org_id: int) -> dict:
    try:
        alive = alive_worker_count()
    except REDIS_DOWN:
        alive = None  # not known while Redis is away; the card re-fetches when it is back
    return {"ping": pings.ping_latest(org_id), "alive": alive}


register_card("workers", title="Workers", template="core/_card_workers.html", load=_workers_card,
              events=(pings.EVENT,), order=900)


def render_card(key: str) -> str:
    card = CARDS.get(key)
    if card is None or not current_user.has_role(*card.roles) and card.roles:
        abort(404)
    return render_template(card.template, card=card, **card.load(current_user.organisation_id))


@bp.get("/")
@login_required
def index():
    return render_template("core/dashboard.html", cards=cards_for(current_user), render_card=render_card)


@bp.get("/dashboard/cards/<key>")
@login_required
def card(key: str):
    return render_card(key)


@bp.post("/dashboard/ping")
@login_required
def ping():
    pings.ping_request(org_id=current_user.organisation_id, by=current_user)
    return render_card("workers")
