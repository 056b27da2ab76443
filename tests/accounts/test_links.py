"""Invitations and password resets: links sent by e-mail that expire and work once; a reset
request answers the same whether the address has an account or not."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import AccountEmail, AccountLink, LinkKind
from app.core.models import Role, User
from app.extensions import db
from tests.conftest import PASSWORD

CHOSEN = "walnut harbour lantern 7"


def _last_link(recipient: str) -> str:
    mail = db.session.scalars(select(AccountEmail).where(AccountEmail.recipient == recipient)
                              .order_by(AccountEmail.id.desc())).first()
    assert mail is not None, f"no e-mail to {recipient}"
    return re.search(r"https?://\S+", mail.body).group(0).split("localhost", 1)[1]


def _invite(admin_client, email="newcomer@acme.test", role="manager"):
    response = admin_client.post("/admin/invitations", data={"email": email, "name": "New Comer", "role": role})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return _last_link(email)


def test_an_invitation_lets_the_person_choose_a_password_once(app, admin_client, client):
    path = _invite(admin_client)
    assert "newcomer@acme.test" in admin_client.get("/admin/users").get_data(as_text=True)
    page = client.get(path)
    assert page.status_code == 200 and b"newcomer@acme.test" in page.data
    client.fetch_csrf()
    response = client.post(path, data={"name": "New Comer", "password": CHOSEN, "repeat": CHOSEN})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "newcomer@acme.test"))
    assert user.role == Role.MANAGER and user.name == "New Comer"
    assert client.get("/account/").status_code == 200  # signed in straight away
    assert client.get(path).status_code == 404  # used up


def test_an_invitation_refuses_a_weak_password_and_keeps_the_name(admin_client, client):
    path = _invite(admin_client)
    client.fetch_csrf()
    response = client.post(path, data={"name": "Kept Name", "password": "qwertyuiop", "repeat": "qwertyuiop"})
    assert response.status_code == 422 and b"Kept Name" in response.data
    assert db.session.scalar(select(User).where(User.email == "newcomer@acme.test")) is None


def test_expired_and_withdrawn_invitations_do_not_work(admin_client, client):
    path = _invite(admin_client)
    link = db.session.scalars(select(AccountLink).order_by(AccountLink.id.desc())).first()
    link.expires_at = link.expires_at - timedelta(days=30)
    db.session.commit()
    assert client.get(path).status_code == 404
    path = _invite(admin_client, email="second@acme.test")
    link = db.session.scalars(select(AccountLink).order_by(AccountLink.id.desc())).first()
    assert admin_client.post(f"/admin/invitations/{link.id}/revoke").status_code == 302
    assert client.get(path).status_code == 404


def test_an_invitation_to_a_taken_address_is_refused_inline(admin_client, admin):
    response = admin_client.post("/admin/invitations", data={"email": admin.email, "role": "staff"})
    assert response.status_code == 422 and b"already exists" in response.data


def test_only_admins_invite(manager_client):
    assert manager_client.post("/admin/invitations", data={"email": "x@acme.test", "role": "staff"}).status_code == 403


def _without_csrf_tokens(page: str) -> str:
    return re.sub(r'"[\w-]+\.[\w-]+\.[\w-]+"', '"token"', page)


def test_reset_answers_the_same_for_known_and_unknown_addresses(client, admin):
    client.fetch_csrf()
    known = client.post("/account/reset/", data={"email": admin.email}, follow_redirects=True)
    unknown = client.post("/account/reset/", data={"email": "nobody@acme.test"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    # The CSRF token is signed with the second it was made in, so two pages a second apart differ
    # there; everything the person can read must not.
    assert _without_csrf_tokens(known.get_data(as_text=True)) == _without_csrf_tokens(unknown.get_data(as_text=True))
    assert db.session.scalar(select(AccountEmail.id).where(AccountEmail.recipient == "nobody@acme.test")) is None


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(client_for, client, admin):
    signed_in = client_for(admin)
    client.fetch_csrf()
    client.post("/account/reset/", data={"email": admin.email})
    path = _last_link(admin.email)
    response = client.post(path, data={"password": CHOSEN, "repeat": CHOSEN})
    assert response.status_code == 302
    assert signed_in.get("/account/").status_code == 302
    client_for(admin, CHOSEN)
    assert client.get(path).status_code == 404
    assert client.post("/login", data={"email": admin.email, "password": PASSWORD}).status_code == 401


def test_an_expired_reset_link_does_not_work(client, admin):
    client.fetch_csrf()
    client.post("/account/reset/", data={"email": admin.email})
    path = _last_link(admin.email)
    link = db.session.scalars(select(AccountLink).where(AccountLink.kind == LinkKind.RESET)).first()
    link.expires_at = link.expires_at - timedelta(hours=2)
    db.session.commit()
    assert client.post(path, data={"password": CHOSEN, "repeat": CHOSEN}).status_code == 404


def test_without_a_mail_server_admins_see_account_e_mails_to_pass_on(admin_client, client, staff):
    client.fetch_csrf()
    assert b"no mail server" in client.get("/account/reset/").data
    client.post("/account/reset/", data={"email": staff.email})
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Reset your Stockroom password" in page and "/account/reset/" in page and "kept here" in page
