"""Row factories for the cross-organisation route walk.

Each domain adds a function that creates rows of its own for the given organisation and returns
{url argument name: id}; the walk fills every route's arguments from the merged result.
"""
from __future__ import annotations

from app.core.models import Role
from app.core.users import user_create

FACTORIES = []


def factory(fn):
    FACTORIES.append(fn)
    return fn


@factory
def core_rows(org, user) -> dict:
    other = user_create(org_id=org.id, email=f"victim@{org.id}.rival.test", password="long-enough-pw",
                        role=Role.STAFF)
    return {"user_id": other.id, "job_id": "not-a-job-of-yours", "key": "no-such-card"}


def make_rows_for(org, user) -> dict:
    ids: dict = {}
    for fn in FACTORIES:
        ids.update(fn(org, user))
    return ids
