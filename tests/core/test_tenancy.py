"""Every registered route, walked with ids of another organisation: 404 (or 403) everywhere.

New routes are covered automatically: the walk reads the URL map, and each domain registers a
factory below (ROW_FACTORIES) that creates one row of its own for the other organisation.
"""
from __future__ import annotations

import re

import pytest

from app.core.models import Role
from tests.conftest import PASSWORD
from tests.tenancy_rows import make_rows_for

# Routes that are not about one organisation's rows.
PUBLIC_OR_GLOBAL = {"static", "auth.login", "auth.logout", "health.healthz", "events.stream"}
# Webhook endpoints authenticate by signature, not by login; their own tests cover tenancy.
# The API authenticates by token: tests/api/test_api_tenancy.py walks it with one.
SIGNED_PREFIXES = ("/hooks/", "/api/")


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_OR_GLOBAL or rule.rule.startswith(SIGNED_PREFIXES):
            continue
        if not rule.arguments:
            continue
        yield rule


def _fill(rule, ids: dict[str, object]) -> str | None:
    url = rule.rule
    for arg in rule.arguments:
        value = ids.get(arg)
        if value is None:
            return None
        url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(value), url)
    return url


def test_every_route_with_another_organisations_ids_is_404(app, client_for, org, other_org, make_user):
    mine = make_user(org, Role.ADMIN)
    theirs = make_user(other_org, Role.ADMIN)
    ids = make_rows_for(other_org, theirs)  # {"<url argument name>": id of a row of the other org}
    client = client_for(mine, PASSWORD)
    walked, missing = [], []
    for rule in _routes(app):
        url = _fill(rule, ids)
        if url is None:
            missing.append(f"{rule.endpoint} {rule.rule}")
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={})
            walked.append(url)
            assert response.status_code in (403, 404), f"{method} {url} -> {response.status_code}"
    assert not missing, ("routes whose URL arguments have no row factory in tests/tenancy_rows.py: "
                         + ", ".join(missing))
    assert walked or not list(_routes(app))


@pytest.mark.parametrize("path", ["/", "/admin/users", "/admin/jobs", "/admin/health", "/admin/audit"])
def test_pages_only_show_own_organisation(admin_client, other_org, make_user, path):
    make_user(other_org, Role.ADMIN, "spy@rival.test")
    response = admin_client.get(path)
    assert response.status_code == 200
    assert b"spy@rival.test" not in response.data and b"Rival Trading" not in response.data
