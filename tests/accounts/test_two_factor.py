"""Two-factor sign-in: TOTP with a server-drawn QR code, ten hashed single-use recovery codes, the
organisation's policy, and throttled code attempts."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from app.accounts import two_factor
from app.accounts.models import RecoveryCode
from app.core.models import utcnow
from app.extensions import db
from tests.conftest import PASSWORD


def _turn_on(client) -> tuple[str, list[str]]:
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn on the server
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    response = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", response.get_data(as_text=True))
    return secret, codes


def _password_step(client, user):
    client.fetch_csrf()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/two-factor")


def _next_code(secret: str) -> str:
    # The code of the next 30-second step: accepted (one step of clock drift), and later than the one
    # used to turn it on (a step is good only once).
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))


def test_sign_in_asks_for_a_code_once_two_factor_is_on(app, client_for, admin):
    secret, codes = _turn_on(client_for(admin))
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == admin.id)).all()
    assert len(stored) == 10 and not set(c.replace("-", "") for c in codes) & set(stored)  # hashed
    browser = app.test_client()
    _password_step(browser, admin)
    assert browser.get("/account/").status_code == 302  # not signed in with the password alone
    response = browser.post("/login/two-factor", data={"code": "000000"})
    assert response.status_code == 401 and b"not right" in response.data
    assert browser.post("/login/two-factor", data={"code": _next_code(secret)}).status_code == 302
    assert browser.get("/account/").status_code == 200


def test_a_recovery_code_works_once(app, client_for, admin):
    _, codes = _turn_on(client_for(admin))
    first = app.test_client()
    _password_step(first, admin)
    assert first.post("/login/two-factor", data={"code": codes[0].upper()}).status_code == 302
    second = app.test_client()
    _password_step(second, admin)
    assert second.post("/login/two-factor", data={"code": codes[0]}).status_code == 401
    assert two_factor.recovery_codes_left(admin) == 9


def test_a_code_is_good_only_once(app, client_for, admin):
    secret, _ = _turn_on(client_for(admin))
    code = _next_code(secret)
    first, second = app.test_client(), app.test_client()
    _password_step(first, admin)
    assert first.post("/login/two-factor", data={"code": code}).status_code == 302
    _password_step(second, admin)
    assert second.post("/login/two-factor", data={"code": code}).status_code == 401


def test_wrong_codes_are_throttled(app, client_for, admin):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per minute"
    _turn_on(client_for(admin))
    browser = app.test_client()
    _password_step(browser, admin)
    statuses = [browser.post("/login/two-factor", data={"code": "123456"}).status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429


def test_a_wrong_setup_code_is_refused_inline(admin_client):
    admin_client.get("/account/two-factor")
    response = admin_client.post("/account/two-factor", data={"code": "12345x"})
    assert response.status_code == 422 and b"not right" in response.data


def test_the_organisation_can_require_it(admin_client, staff_client, staff):
    assert admin_client.post("/admin/security", data={"two_factor": "everyone"}).status_code == 302
    response = staff_client.get("/orders/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/two-factor")
    assert staff_client.get("/account/two-factor").status_code == 200
    _turn_on(staff_client)
    assert staff_client.get("/account/").status_code == 200
    assert staff_client.post("/admin/security", data={"two_factor": "optional"}).status_code == 403


def test_turning_it_off_needs_the_password_and_a_code(client_for, admin):
    browser = client_for(admin)
    secret, _ = _turn_on(browser)
    response = browser.post("/account/two-factor/off", data={"password": "wrong", "code": _next_code(secret)})
    assert response.status_code == 422 and two_factor.two_factor_enabled(admin)
    response = browser.post("/account/two-factor/off", data={"password": PASSWORD, "code": _next_code(secret)})
    assert response.status_code == 302
    assert not two_factor.two_factor_enabled(admin)
