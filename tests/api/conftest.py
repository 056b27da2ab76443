"""API clients: a personal token of a given user and scopes, sent as a bearer header."""
from __future__ import annotations

import pytest

from app.accounts.tokens import ALL_SCOPES, scopes_for, token_create


class TokenClient:
    def __init__(self, client, secret: str):
        self.client, self.secret = client, secret

    def open(self, method: str, path: str, *, headers: dict | None = None, **kwargs):
        sent = {"Authorization": f"Bearer {self.secret}", **(headers or {})}
        return self.client.open(path, method=method, headers=sent, csrf=False, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)


@pytest.fixture
def token_for(app, client_for):
    def _make(user, scopes=None) -> TokenClient:
        scopes = scopes_for(user) if scopes is None else [s for s in ALL_SCOPES if s in scopes]
        _, secret = token_create(user=user, name="test script", scopes=scopes, expires_days=30)
        return TokenClient(client_for(None), secret)

    return _make


@pytest.fixture
def api(token_for, admin):
    return token_for(admin)
