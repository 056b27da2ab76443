"""An invited person's first day: the admin invites by e-mail, the invitee opens the link, chooses a
password, turns on two-factor sign-in from the QR page, signs out, and signs in with a code."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from playwright.sync_api import expect
from sqlalchemy import select

from app.accounts.models import AccountEmail
from app.core.models import User, utcnow
from app.core.users import user_set_active
from app.extensions import db
from tests.browser.conftest import sign_in, wait_until

CHOSEN = "copper kettle meadow 93"


def _invitation_path() -> str:
    def mail():
        db.session.rollback()  # a fresh snapshot: the server wrote it in another connection
        return db.session.scalars(select(AccountEmail).where(AccountEmail.recipient == "newcomer@acme.test")).first()

    body = wait_until(mail).body
    return "/account/invite/" + re.search(r"/account/invite/(\S+)", body).group(1)


def test_invite_accept_set_password_turn_on_two_factor_and_sign_in_with_a_code(app, context, admin):
    app.config["SSE_HEARTBEAT_SECONDS"] = 1
    admin_page = context.new_page()
    sign_in(admin_page, admin)
    admin_page.goto("/admin/users")
    admin_page.fill("form[action$='/admin/invitations'] input[name=email]", "newcomer@acme.test")
    admin_page.fill("form[action$='/admin/invitations'] input[name=name]", "New Comer")
    admin_page.select_option("form[action$='/admin/invitations'] select[name=role]", "staff")
    admin_page.get_by_role("button", name="Send invitation").click()
    expect(admin_page.locator("#invitations")).to_contain_text("newcomer@acme.test")
    admin_page.get_by_role("button", name="Logout").click()

    page = context.new_page()
    page.goto(_invitation_path())
    expect(page.locator("body")).to_contain_text("newcomer@acme.test")
    page.fill("input[name=password]", "password1")
    page.fill("input[name=repeat]", "password1")
    page.get_by_role("button", name=re.compile("password|Join|account", re.I)).click()
    expect(page.locator(".error, .field-error, [role=alert]").first).to_be_visible()  # refused inline
    page.fill("input[name=password]", CHOSEN)
    page.fill("input[name=repeat]", CHOSEN)
    page.get_by_role("button", name=re.compile("password|Join|account", re.I)).click()
    page.wait_for_selector("text=Logout")

    page.goto("/account/two-factor")
    expect(page.locator("#totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("button", name="Logout").click()

    page.goto("/login")
    page.fill("input[name=email]", "newcomer@acme.test")
    page.fill("input[name=password]", CHOSEN)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/login/two-factor"))
    # The next step's code: the step used to turn it on cannot be used twice.
    page.fill("input[name=code]", pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30)))
    page.click("button[type=submit]")
    page.wait_for_selector("text=Logout")
    page.goto("/account/")
    expect(page.locator("#two-factor-state")).to_contain_text("10 recovery codes left")

    # Deactivated by an admin meanwhile: the open page goes to the sign-in page by itself.
    expect(page.locator("#live-dot.on")).to_be_visible(timeout=30_000)
    db.session.rollback()  # a fresh snapshot: the server created the account
    newcomer = db.session.scalar(select(User).where(User.email == "newcomer@acme.test"))
    user_set_active(org_id=admin.organisation_id, user_id=newcomer.id, active=False, by=admin)
    page.wait_for_url(re.compile(r"/login"), timeout=15_000)
