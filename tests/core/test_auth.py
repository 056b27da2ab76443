"""Sign-in, throttling, CSRF, session cookie flags and roles."""
from app.core.models import AuditEntry, Role
from app.extensions import db
from tests.conftest import PASSWORD


def test_login_page_and_successful_sign_in(client, admin):
    page = client.get("/login")
    assert page.status_code == 200 and b'name="csrf-token"' in page.data
    client.fetch_csrf()
    response = client.post("/login", data={"email": "ADMIN@acme.test ", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and b"Logout" in home.data and b"Acme Jewels" in home.data


def test_wrong_password_is_refused_with_a_message(client, admin):
    response = client.post("/login", data={"email": admin.email, "password": "nope-nope-nope"})
    assert response.status_code == 401
    assert b"Wrong e-mail or password" in response.data
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_sign_in(client, admin, make_user, org):
    user = make_user(org, Role.STAFF)
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_session_cookie_is_httponly_and_lax(client, admin):
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_over_https(client, admin):
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD},
                           base_url="https://localhost", headers={"Referer": "https://localhost/login"})
    assert "Secure" in response.headers.get("Set-Cookie", "")


def test_throttling_per_account_answers_429_with_a_clear_message(client, admin):
    for _ in range(5):
        assert client.post("/login", data={"email": admin.email, "password": "wrong-password"}).status_code == 401
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-ins for this account" in response.data
    # Another account from the same address is not locked out by this one.
    assert client.post("/login", data={"email": "other@acme.test", "password": "x" * 12}).status_code == 401


def test_throttling_per_address(app, client, admin):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per minute"
    for i in range(3):
        client.post("/login", data={"email": f"nobody{i}@acme.test", "password": "wrong-password"})
    response = client.post("/login", data={"email": "nobody9@acme.test", "password": "wrong-password"})
    assert response.status_code == 429
    assert b"from your address" in response.data


def test_post_without_csrf_token_is_400(client, admin):
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert b"security token" in response.data


def test_htmx_post_without_csrf_gets_an_error_partial(admin_client):
    response = admin_client.post("/dashboard/ping", headers={"HX-Request": "true"}, csrf=False)
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#toasts"
    assert b"<html" not in response.data and b"security token" in response.data


def test_logout_needs_post_and_ends_the_session(admin_client):
    assert admin_client.get("/logout").status_code == 405
    assert admin_client.post("/logout").status_code == 302
    assert admin_client.get("/").status_code == 302


def test_open_redirect_is_refused(client, admin):
    response = client.post("/login?next=//evil.example/", data={"email": admin.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_staff_cannot_reach_admin_pages(staff_client, manager_client):
    for path in ("/admin/users", "/admin/jobs", "/admin/health", "/admin/audit"):
        assert staff_client.get(path).status_code == 403, path
        assert manager_client.get(path).status_code == 403, path


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/", headers={"HX-Request": "true"}).headers.get("HX-Redirect") == "/login"


def test_admin_adds_user_changes_role_and_deactivates(admin_client, admin, org):
    response = admin_client.post("/admin/users", data={"email": "new@acme.test", "name": "New",
                                                       "role": "staff", "password": "long-enough-pw"})
    assert response.status_code == 302
    from sqlalchemy import select

    from app.core.models import User
    user = db.session.scalar(select(User).where(User.email == "new@acme.test"))
    assert user.role == Role.STAFF and user.organisation_id == org.id
    assert admin_client.post(f"/admin/users/{user.id}/role", data={"role": "manager"}).status_code == 302
    assert admin_client.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    assert user.role == Role.MANAGER and user.active is False
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["user.create", "user.create", "user.role", "user.deactivate"]


def test_add_user_form_errors_are_shown(admin_client, admin):
    response = admin_client.post("/admin/users", data={"email": admin.email, "role": "staff",
                                                       "password": "long-enough-pw"})
    assert response.status_code == 422 and b"already exists" in response.data
    response = admin_client.post("/admin/users", data={"email": "x@acme.test", "role": "staff", "password": "short"})
    assert response.status_code == 422 and b"at least 10" in response.data


def test_last_admin_cannot_be_demoted_or_deactivate_self(admin_client, admin):
    response = admin_client.post(f"/admin/users/{admin.id}/role", data={"role": "staff"})
    assert response.status_code == 409 and b"last active admin" in response.data
    response = admin_client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    assert response.status_code == 409
