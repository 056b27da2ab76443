"""Every inbox page renders for the roles that may see it, and only shows the organisation's rows."""
from __future__ import annotations

from sqlalchemy import func, select

from app.core.models import AuditEntry, Role
from app.extensions import db
from app.inbox.models import Conversation
from tests.inbox.helpers import channel, make_catalogue, post_json


def _seed(client, org_id: int, text: str = "2 Rose Quartz Bracelet, 1 Silver Hoop Earrings", sender="+15550003"):
    make_catalogue(org_id)
    post_json(client, channel(org_id), {"id": "p-1", "from": sender, "text": text, "name": "Page Tester"})
    return db.session.scalar(select(Conversation))


def test_pages_render(app, org, client, admin_client, run_jobs):
    conversation = _seed(client, org.id)
    run_jobs()
    for url in ["/inbox/", "/inbox/conversations", "/inbox/review", "/inbox/customers",
                f"/inbox/customers/{conversation.customer_id}", f"/inbox/c/{conversation.id}",
                "/inbox/settings/channels/", "/inbox/settings/webhooks", "/inbox/usage", "/inbox/items?q=rose",
                "/", "/dashboard/cards/inbox"]:
        response = admin_client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:800])
    assert b"Rose Quartz Bracelet" in admin_client.get("/inbox/items?q=rose").data


def test_inbox_lists_unread_badge_and_opening_clears_it(app, org, client, staff_client):
    conversation = _seed(client, org.id)
    listing = staff_client.get("/inbox/conversations").get_data(as_text=True)
    assert f'data-testid="unread-{conversation.id}"' in listing and "Page Tester" in listing
    staff_client.get(f"/inbox/c/{conversation.id}")
    db.session.expire_all()
    assert db.session.get(Conversation, conversation.id).unread_count == 0
    assert f'data-testid="unread-{conversation.id}"' not in staff_client.get("/inbox/conversations").get_data(as_text=True)


def test_other_organisations_conversations_are_invisible(app, org, other_org, client, staff_client, make_user):
    _seed(client, other_org.id)
    page = staff_client.get("/inbox/conversations").get_data(as_text=True)
    assert "Page Tester" not in page
    assert "Page Tester" not in staff_client.get("/inbox/customers").get_data(as_text=True)


def test_settings_pages_need_their_roles(app, org, staff_client, manager_client):
    assert staff_client.get("/inbox/settings/channels/").status_code == 403
    assert staff_client.get("/inbox/settings/webhooks").status_code == 403
    assert staff_client.get("/inbox/usage").status_code == 403
    assert manager_client.get("/inbox/usage").status_code == 200
    assert manager_client.get("/inbox/settings/channels/").status_code == 403


def test_relay_secret_shown_once_then_masked(app, org, admin_client):
    first = admin_client.get("/inbox/settings/channels/").get_data(as_text=True)
    config = channel(org.id)
    old_secret = config.json_secret
    assert config.json_secret in first and f"/hooks/{config.hook_token}/json" in first
    second = admin_client.get("/inbox/settings/channels/").get_data(as_text=True)
    assert config.json_secret not in second and config.json_secret[-4:] in second
    rotated = admin_client.post("/inbox/settings/channels/json/rotate", data={}).get_data(as_text=True)
    db.session.expire_all()
    fresh = channel(org.id)
    assert fresh.json_secret != old_secret and fresh.json_secret in rotated
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "inbox.channel_secrets_rotate"))


def test_reply_goes_through_the_local_outbox(app, org, client, staff_client, run_jobs):
    from app.inbox.models import Message, OutboxMessage

    conversation = _seed(client, org.id)
    response = staff_client.htmx("post", f"/inbox/c/{conversation.id}/reply", data={"body": "On its way!"})
    assert response.status_code == 200 and b"On its way!" in response.data
    assert staff_client.htmx("post", f"/inbox/c/{conversation.id}/reply", data={"body": "  "}).status_code == 422
    run_jobs()
    outbox = db.session.scalar(select(OutboxMessage))
    assert outbox.recipient == "+15550003" and outbox.body == "On its way!"
    reply = db.session.scalar(select(Message).where(Message.direction == "out"))
    assert reply.delivery_status == "outbox"  # no provider configured: said so, never "sent"
    page = staff_client.get(f"/inbox/c/{conversation.id}").get_data(as_text=True)
    assert "kept in outbox: no provider configured" in page


def test_conversation_close_reopen_and_assign(app, org, client, staff_client, staff, make_user, other_org):
    conversation = _seed(client, org.id)
    staff_client.post(f"/inbox/c/{conversation.id}/status", data={"status": "closed"})
    db.session.expire_all()
    assert db.session.get(Conversation, conversation.id).status.value == "closed"
    staff_client.post(f"/inbox/c/{conversation.id}/assign", data={"user_id": str(staff.id)})
    db.session.expire_all()
    assert db.session.get(Conversation, conversation.id).assigned_to_id == staff.id
    outsider = make_user(other_org, Role.STAFF)
    bad = staff_client.htmx("post", f"/inbox/c/{conversation.id}/assign", data={"user_id": str(outsider.id)})
    assert bad.status_code == 422


def test_customer_labels_flags_and_notes(app, org, client, staff_client):
    conversation = _seed(client, org.id)
    url = f"/inbox/customers/{conversation.customer_id}"
    response = staff_client.post(f"{url}/profile", data={"labels": "trade, north, trade", "notes": "Pays on time",
                                                         "flags": ["vip", "not-a-flag"]})
    assert response.status_code == 302
    page = staff_client.get(url).get_data(as_text=True)
    assert "Pays on time" in page and ">vip<" in page and ">north<" in page and "not-a-flag" not in page


def test_blocked_customers_messages_are_kept_but_not_read(app, org, client, staff_client, run_jobs):
    from app.inbox.review_models import Extraction

    conversation = _seed(client, org.id)
    staff_client.post(f"/inbox/customers/{conversation.customer_id}/profile", data={"flags": ["blocked"]})
    run_jobs()
    before = db.session.scalar(select(func.count(Extraction.id)))
    post_json(client, channel(org.id), {"id": "blk-2", "from": "+15550003", "text": "5 Rose Quartz Bracelet"})
    run_jobs()
    assert db.session.scalar(select(func.count(Extraction.id))) == before
