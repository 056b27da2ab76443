"""Every admin route of accounts refuses a manager and a staff member (403); every account route
needs a sign-in."""
from __future__ import annotations

import re

import pytest


def _urls(app, prefix: str):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(prefix):
            url = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "1", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, url


@pytest.mark.parametrize("role_client", ["manager_client", "staff_client"])
def test_admin_routes_of_accounts_refuse_lower_roles(app, request, role_client):
    client = request.getfixturevalue(role_client)
    walked = list(_urls(app, "account_admin."))
    assert len(walked) >= 5
    for method, url in walked:
        assert client.open(url, method=method, data={}).status_code == 403, f"{method} {url}"


def test_account_routes_need_a_sign_in(app, client):
    client.fetch_csrf()
    for method, url in _urls(app, "account."):
        assert client.open(url, method=method, data={}).status_code in (302, 401), f"{method} {url}"
