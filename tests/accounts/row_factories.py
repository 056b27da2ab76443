"""Rows of accounts for the cross-organisation route walk: a signed-in session, an API token and an
open invitation of the other organisation."""
from __future__ import annotations

from datetime import timedelta

from app.accounts.models import AccountLink, ApiToken, LinkKind, UserSession
from app.core.models import Role, utcnow
from app.extensions import db
from tests.tenancy_rows import factory


@factory
def account_rows(org, user) -> dict:
    now = utcnow()
    session = UserSession(organisation_id=org.id, user_id=user.id, key_hash="a" * 64, version=1,
                          expires_at=now + timedelta(hours=1))
    token = ApiToken(organisation_id=org.id, user_id=user.id, name="rival sync", prefix="srk_rival", token_hash="b" * 64,
                     scopes=["orders:read"], expires_at=now + timedelta(days=1))
    invitation = AccountLink(organisation_id=org.id, kind=LinkKind.INVITE, token_hash="c" * 64,
                             email="newcomer@rival.test", role=Role.STAFF, expires_at=now + timedelta(days=1))
    db.session.add_all([session, token, invitation])
    db.session.commit()
    return {"session_id": session.id, "token_id": token.id, "invitation_id": invitation.id}
