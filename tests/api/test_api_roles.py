"""The role matrix of the API, read from the URL map like the pages' one (tests/core/test_roles.py):
every operation names the scope it needs, and a token whose owner's role does not allow that scope
is refused with 403 for it, whatever the token was given when the role was higher."""
from __future__ import annotations

from app.accounts.tokens import ALL_SCOPES, role_allows
from app.core import users
from app.core.models import Role
from tests.core.test_tenancy import _fill
from tests.tenancy_rows import make_rows_for


def test_every_operation_needs_a_scope_and_refuses_roles_that_do_not_allow_it(app, token_for, org, make_user, admin):
    ids = make_rows_for(org, admin)
    checked = 0
    for role in (Role.MANAGER, Role.STAFF):
        user = make_user(org, Role.ADMIN)
        token = token_for(user, list(ALL_SCOPES))  # given everything while an admin…
        users.user_change_role(org_id=org.id, user_id=user.id, role=role, by=admin)  # …then demoted
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if not rule.rule.startswith("/api/") or rule.endpoint in ("api.openapi", "api.reference"):
                continue
            scope = getattr(view, "required_scope", None)
            assert scope in ALL_SCOPES, f"{rule.rule} names no known scope"
            if role_allows(user, scope):
                continue
            url = _fill(rule, ids)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = token.open(method, url, json={} if method == "POST" else None)
                assert response.status_code == 403, f"{role.value}: {method} {url} -> {response.status_code}"
                checked += 1
    assert checked > 10
