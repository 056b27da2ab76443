"""The cross-organisation walk for the API: every /api/v1 route with another organisation's ids,
called with a token holding every scope, is 404 (or 403)."""
from __future__ import annotations

from app.core.models import Role
from tests.core.test_tenancy import _fill
from tests.tenancy_rows import make_rows_for


def test_every_api_route_with_another_organisations_ids_is_404(app, token_for, org, other_org, make_user):
    api = token_for(make_user(org, Role.ADMIN))
    ids = make_rows_for(other_org, make_user(other_org, Role.ADMIN))
    walked = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or not rule.arguments:
            continue
        url = _fill(rule, ids)
        assert url is not None, f"no row factory for {rule.rule}"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = api.open(method, url, json={} if method == "POST" else None)
            walked.append(url)
            assert response.status_code in (403, 404), f"{method} {url} -> {response.status_code}"
    assert walked
