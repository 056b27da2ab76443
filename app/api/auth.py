"""Who is calling the API: a personal token in `Authorization: Bearer …`, its scopes checked
against the owner's role at every request, rate limited per token, its last use noted.

The caller becomes Flask-Login's current user for the request (no session cookie is written),
so the same scoped helpers and services as the pages apply, with the same tenancy rules.
"""
from __future__ import annotations

import hashlib
from functools import wraps

from flask import current_app, g, request

from app.accounts.tokens import role_allows, token_lookup, token_touch
from app.api.problems import ApiProblem
from app.core.models import utcnow
from app.core.tenancy import get_or_404

UNAUTHORISED = {"WWW-Authenticate": 'Bearer realm="stockroom"'}


def _bearer() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def rate_limit_key() -> str:
    """Per token (by a hash of what was sent, so unknown tokens share nothing with real ones)."""
    sent = hashlib.sha256(_bearer().encode()).hexdigest()[:24]
    return f"{current_app.config['REDIS_NAMESPACE']}:api-token:{sent}"


def authenticate_request() -> None:
    """Find the token and its owner, or answer 401 with no hint about why."""
    secret = _bearer()
    if not secret:
        raise ApiProblem(401, "Send a personal API token: Authorization: Bearer <token>.", headers=UNAUTHORISED)
    token, now = token_lookup(secret), utcnow()
    if token is None or not token.usable(now) or not token.user.active:
        raise ApiProblem(401, "The token is unknown, expired or revoked.", headers=UNAUTHORISED)
    g.api_token, g._login_user = token, token.user
    token_touch(token, request.remote_addr, now)


def requires(scope: str):
    """The token must carry `scope` and its owner's role must still allow it; 403 otherwise."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            token = g.api_token
            if scope not in (token.scopes or []):
                raise ApiProblem(403, f"This token lacks the scope {scope!r}.")
            if not role_allows(token.user, scope):
                raise ApiProblem(403, f"The role of the token's owner does not allow {scope!r}.")
            return view(*args, **kwargs)

        wrapped.required_scope = scope
        return wrapped

    return decorator


def in_organisation(model, argument: str):
    """404 before anything else is looked at (the body included) when the row named by the URL
    is not of the token's organisation."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            get_or_404(model, kwargs[argument], g.api_token.organisation_id)
            return view(*args, **kwargs)

        return wrapped

    return decorator
