"""The role matrix: every registered route, asked by every role of the organisation that owns the rows.

A view declares who may use it with `role_required` (which records `required_roles` on the view);
the walk reads the URL map, so a new route is covered the day it is added. For each route:
- without a session it sends the visitor to sign in (302) or answers 401 — never the page;
- a role the view does not allow gets 403 for every method, before anything is read or written;
- a role it allows gets its GET page without a 403 or a 5xx (other methods are left to the
  domain tests, which know what a valid body is).
"""
from __future__ import annotations

import re

import pytest

from app.core.models import Role
from tests.conftest import PASSWORD
from tests.tenancy_rows import make_rows_for

# Pages anyone may open, and the sign-in flow itself.
PUBLIC = {"static", "auth.login", "auth.logout", "health.healthz"}
# Authenticated by a signature, a share token or an emailed link rather than by a session.
TOKEN_PREFIXES = ("/hooks/", "/share/", "/s/", "/account/invite/", "/account/reset/", "/api/")
ROLES = (Role.ADMIN, Role.MANAGER, Role.STAFF)


def _fill(rule, ids: dict) -> str | None:
    url = rule.rule
    for arg in rule.arguments:
        if ids.get(arg) is None:
            return None
        url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(ids[arg]), url)
    return url


def _session_routes(app, ids):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.rule.startswith(TOKEN_PREFIXES):
            continue
        url = _fill(rule, ids)
        if url is not None:
            yield rule, url, app.view_functions[rule.endpoint]


def _allowed(view, role: Role) -> bool:
    required = getattr(view, "required_roles", None)
    return not required or role == Role.ADMIN or role in required


@pytest.fixture
def walk(app, org, make_user, client_for):
    users = {role: make_user(org, role) for role in ROLES}
    ids = make_rows_for(org, users[Role.ADMIN])
    routes = list(_session_routes(app, ids))
    assert len(routes) > 50, "the walk found too few routes; is the URL map filled?"
    return routes, {role: client_for(user, PASSWORD) for role, user in users.items()}


def test_no_route_opens_without_a_session(app, walk):
    routes, _ = walk
    anonymous = app.test_client()
    for rule, url, _view in routes:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            status = anonymous.open(url, method=method, data={}).status_code
            assert status in (302, 401, 403, 404), f"{method} {url} without a session -> {status}"


def test_a_role_the_view_does_not_allow_gets_403_for_every_method(walk):
    routes, clients = walk
    checked = 0
    for rule, url, view in routes:
        for role in ROLES:
            if _allowed(view, role):
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                status = clients[role].open(url, method=method, data={}).status_code
                assert status == 403, f"{role.value}: {method} {url} -> {status}"
                checked += 1
    assert checked > 20


def test_a_role_the_view_allows_opens_its_page(walk):
    routes, clients = walk
    for rule, url, view in routes:
        if "GET" not in rule.methods or rule.endpoint.startswith("events."):
            continue  # the event stream never ends; tests/core/test_auth.py covers it
        for role in ROLES:
            if not _allowed(view, role):
                continue
            status = clients[role].get(url).status_code
            assert status != 403 and status < 500, f"{role.value}: GET {url} -> {status}"
