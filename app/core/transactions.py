"""Run side effects (enqueue a job, publish an event) only once the transaction has committed.

A job must never start before the rows it reads are visible, and nothing is announced for a
transaction that rolled back.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)
_KEY = "stockroom_after_commit"


def after_commit(callback: Callable[[], object]) -> None:
    """Call `callback` after the current session's next successful commit."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any query still drops the callback
    session.info.setdefault(_KEY, []).append(callback)


def after_commit_collect(name: str, flush: Callable[[list], object]) -> list:
    """This transaction's list named `name`, handed to `flush` once after the commit.

    For side effects of one kind that a transaction makes many of (live events): they leave
    together, in one round trip, instead of one each."""
    for callback in db.session().info.get(_KEY, ()):
        if getattr(callback, "collects", None) == name:
            return callback.items
    items: list = []

    def _flush() -> None:
        flush(items)

    _flush.collects, _flush.items = name, items
    after_commit(_flush)
    return items


@event.listens_for(Session, "after_commit")
def _run_callbacks(session: Session) -> None:
    callbacks = session.info.pop(_KEY, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the commit stands; the failed side effect is logged, and sweepers catch up
            log.exception("after-commit callback failed")


@event.listens_for(Session, "after_soft_rollback")
def _drop_callbacks(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:  # a savepoint rolling back leaves the outer work standing
        session.info.pop(_KEY, None)
