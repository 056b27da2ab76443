"""Row factories for the cross-organisation route walk.

Each domain puts a `tests/<domain>/row_factories.py` next to its tests, with functions decorated
by `@factory` that create rows of that domain for the given organisation and return
{url argument name: id}. The walk imports every such module and fills each route's arguments
from the merged result, so a new route with a new argument fails the walk until it has a factory.
"""
from __future__ import annotations

import importlib
from pathlib import Path

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


def _discover() -> None:
    for path in sorted(Path(__file__).parent.glob("*/row_factories.py")):
        importlib.import_module(f"tests.{path.parent.name}.row_factories")


def make_rows_for(org, user) -> dict:
    _discover()
    ids: dict = {}
    for fn in FACTORIES:
        ids.update(fn(org, user))
    return ids
