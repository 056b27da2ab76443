"""Sessions that end: sign-out, password change, role change, deactivation and "sign out
everywhere" end sessions on the server, on every request and on every open event stream."""
from __future__ import annotations

import time

import pytest

from app.accounts.models import UserSession
from app.core import events, users
from app.core.models import Role
from app.extensions import db
from tests.conftest import PASSWORD

NEW_PASSWORD = "plum orchard lantern 42"


def _copy(app, client):
    """A second browser holding a copy of the first one's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    thief.csrf_token = client.csrf_token
    return thief


def _signed_in(client) -> bool:
    return client.get("/admin/users").status_code == 200


def test_a_cookie_copied_before_sign_out_is_refused_after(app, admin_client):
    thief = _copy(app, admin_client)
    assert _signed_in(thief)
    assert admin_client.post("/logout").status_code == 302
    assert thief.get("/admin/users").status_code == 302  # back to the sign-in page
    assert not _signed_in(admin_client)


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client_for, admin):
    here, elsewhere = client_for(admin), client_for(admin)
    response = here.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD,
                                                     "repeat": NEW_PASSWORD})
    assert response.status_code == 302
    assert _signed_in(here) and not _signed_in(elsewhere)
    client_for(admin, NEW_PASSWORD)  # the new password signs in


def test_password_change_refuses_a_wrong_current_password_and_a_weak_new_one(admin_client):
    response = admin_client.post("/account/password", data={"current": "nope", "new": NEW_PASSWORD,
                                                             "repeat": NEW_PASSWORD})
    assert response.status_code == 422 and b"not your current password" in response.data
    response = admin_client.post("/account/password", data={"current": PASSWORD, "new": "password123",
                                                             "repeat": "password123"})
    assert response.status_code == 422 and b"common" in response.data
    assert _signed_in(admin_client)


def test_role_change_and_deactivation_end_every_session_of_that_person(app, client_for, admin, manager):
    managers_browser = client_for(manager)
    assert managers_browser.get("/account/").status_code == 200
    users.user_change_role(org_id=admin.organisation_id, user_id=manager.id, role=Role.STAFF, by=admin)
    assert managers_browser.get("/account/").status_code == 302
    managers_browser = client_for(manager)
    users.user_set_active(org_id=admin.organisation_id, user_id=manager.id, active=False, by=admin)
    assert managers_browser.get("/account/").status_code == 302


def test_sessions_list_and_sign_out_of_one_browser_then_everywhere(app, client_for, admin):
    here, laptop = client_for(admin), client_for(admin)
    page = here.get("/account/").get_data(as_text=True)
    assert page.count("/sign-out\"") == 1 and "this browser" in page  # only the other one has a button
    other = db.session.scalars(db.select(UserSession).where(UserSession.user_id == admin.id)
                               .order_by(UserSession.id.desc())).first()  # the laptop's
    assert here.post(f"/account/sessions/{other.id}/sign-out").status_code == 302
    assert not _signed_in(laptop) and _signed_in(here)
    laptop = client_for(admin)
    assert here.post("/account/sessions/sign-out-everywhere").status_code == 302
    assert not _signed_in(here) and not _signed_in(laptop)


def test_another_persons_session_cannot_be_signed_out(client_for, admin, manager):
    client_for(manager)
    theirs = db.session.scalar(db.select(UserSession.id).where(UserSession.user_id == manager.id))
    assert client_for(admin).post(f"/account/sessions/{theirs}/sign-out").status_code == 404


def _chunks(response):
    for chunk in response.response:
        if chunk:
            yield chunk.decode() if isinstance(chunk, bytes) else chunk


def _stream_ends_within(response, seconds: float) -> list[str]:
    """Read the stream until it ends; fail if it is still open after `seconds`."""
    seen, deadline = [], time.monotonic() + seconds
    for chunk in _chunks(response):
        seen.append(chunk)
        assert time.monotonic() < deadline, f"stream still open after {seconds} s: {seen}"
    return seen


@pytest.mark.parametrize("ending", ["deactivate", "logout"])
def test_an_open_event_stream_closes_within_one_heartbeat_once_the_session_ends(app, client_for, admin, manager,
                                                                                ending):
    app.config["SSE_HEARTBEAT_SECONDS"] = 1
    browser = client_for(manager)
    response = browser.get("/events", buffered=False)
    chunks = _chunks(response)
    assert next(chunks).startswith(": connected")
    assert events.get_broker().ready.wait(5)
    events.publish(manager.organisation_id, "product-changed", {"id": 1})
    assert next(chunks).startswith("event: product-changed")
    if ending == "deactivate":
        users.user_set_active(org_id=admin.organisation_id, user_id=manager.id, active=False, by=admin)
    else:
        assert _copy(app, browser).post("/logout").status_code == 302
    events.publish(manager.organisation_id, "product-changed", {"id": 2})
    rest = _stream_ends_within(response, 2.5)
    assert rest[-1].startswith("event: signed-out")
    assert not any('"id": 2' in chunk for chunk in rest[1:]), rest
    assert browser.get("/events").status_code == 401  # the reconnect is refused
