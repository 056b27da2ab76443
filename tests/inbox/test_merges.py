"""One customer across channels: merge the SMS customer into the e-mail one, new messages follow, split undoes it."""
from __future__ import annotations

from sqlalchemy import select

from app.core.models import AuditEntry
from app.extensions import db
from app.inbox import services
from app.inbox.models import Channel, Conversation, CustomerMerge
from app.orders.models import Customer


def _two_customers(org_id: int):
    sms, _ = services.message_receive(org_id=org_id, channel=Channel.SMS, sender="+447700900123", body="2 boxes",
                                      external_id="m-sms-1", sender_name="Ann")
    mail, _ = services.message_receive(org_id=org_id, channel=Channel.EMAIL, sender="Ann Smith <ann@example.com>",
                                       body="and a necklace", external_id="m-mail-1")
    return sms.conversation.customer_id, mail.conversation.customer_id


def test_merge_moves_conversations_and_addresses_and_split_gives_them_back(app, org, client, manager_client):
    by_sms, by_mail = _two_customers(org.id)
    response = manager_client.post(f"/inbox/customers/{by_mail}/merge", data={"source_id": str(by_sms)})
    assert response.status_code == 302
    page = manager_client.get(f"/inbox/customers/{by_mail}").get_data(as_text=True)
    assert "SMS" in page and "E-mail" in page and "+447700900123" in page  # all conversations on one page
    listed = manager_client.get("/inbox/customers").get_data(as_text=True)
    assert f"/inbox/customers/{by_sms}\"" not in listed  # hidden while merged

    # A new SMS from the merged customer's number lands with the customer they were merged into.
    later, _ = services.message_receive(org_id=org.id, channel=Channel.SMS, sender="+447700900123", body="3 more",
                                        external_id="m-sms-2")
    assert later.conversation.customer_id == by_mail

    merge = db.session.scalar(select(CustomerMerge))
    assert manager_client.post(f"/inbox/merges/{merge.id}/split").status_code == 302
    db.session.expire_all()
    owners = {c.channel.value: c.customer_id for c in db.session.scalars(select(Conversation))}
    assert owners == {"sms": by_sms, "email": by_mail}
    from app.inbox.selectors import profile_of

    assert profile_of(by_mail).phones == [] and profile_of(by_sms).merged_into_id is None
    assert manager_client.post(f"/inbox/merges/{merge.id}/split").status_code == 409
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"customer.merge", "customer.split"} <= actions


def test_merge_refuses_bad_choices(app, org, other_org, manager_client, staff_client):
    by_sms, by_mail = _two_customers(org.id)
    assert manager_client.post(f"/inbox/customers/{by_mail}/merge", data={"source_id": str(by_mail)}).status_code == 422
    assert manager_client.post(f"/inbox/customers/{by_mail}/merge", data={"source_id": "x"}).status_code == 422
    theirs = Customer(organisation_id=other_org.id, name="Elsewhere", email="e@example.com", phone="")
    db.session.add(theirs)
    db.session.commit()
    assert manager_client.post(f"/inbox/customers/{by_mail}/merge", data={"source_id": str(theirs.id)}).status_code == 404
    assert staff_client.post(f"/inbox/customers/{by_mail}/merge", data={"source_id": str(by_sms)}).status_code == 403
    assert db.session.scalar(select(CustomerMerge)) is None


def _order(org_id: int, customer_id: int, number: str) -> int:
    from app.orders.models import Order

    order = Order(organisation_id=org_id, number=number, customer_id=customer_id, customer_name="Ann",
                  currency="EUR")
    db.session.add(order)
    db.session.commit()
    return order.id


def _owner(order_id: int) -> int:
    from app.orders.models import Order

    db.session.expire_all()
    return db.session.get(Order, order_id).customer_id


def test_merge_moves_orders_and_split_gives_back_only_the_ones_that_came_along(app, org, manager_client):
    by_sms, by_mail = _two_customers(org.id)
    sms_orders = [_order(org.id, by_sms, "S-1"), _order(org.id, by_sms, "S-2")]
    mail_order = _order(org.id, by_mail, "M-1")
    assert manager_client.post(f"/inbox/customers/{by_mail}/merge", data={"source_id": str(by_sms)}).status_code == 302
    assert [_owner(i) for i in (*sms_orders, mail_order)] == [by_mail] * 3
    merge = db.session.scalar(select(CustomerMerge))
    assert merge.moved["orders"] == sms_orders  # where each came from: this merge's source customer
    page = manager_client.get(f"/inbox/customers/{by_mail}").get_data(as_text=True)
    assert "S-1" in page and "M-1" in page and "from Ann (merged)" in page and "2 orders" in page
    assert f'data-testid="order-origin-{mail_order}"' not in page

    after_merge = _order(org.id, by_mail, "M-2")  # made for the merged customer: stays on split
    assert manager_client.post(f"/inbox/merges/{merge.id}/split").status_code == 302
    assert [_owner(i) for i in sms_orders] == [by_sms, by_sms]
    assert _owner(mail_order) == by_mail and _owner(after_merge) == by_mail
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.split"))
    assert audit.after["orders"] == sms_orders


def test_split_finds_orders_moved_on_by_a_later_merge(app, org, manager_client):
    by_sms, by_mail = _two_customers(org.id)
    third = Customer(organisation_id=org.id, name="Ann at the shop", email="", phone="+15550100")
    db.session.add(third)
    db.session.commit()
    sms_order = _order(org.id, by_sms, "S-1")
    first = _merge(org.id, target=by_mail, source=by_sms)
    _merge(org.id, target=third.id, source=by_mail)
    assert _owner(sms_order) == third.id
    assert manager_client.post(f"/inbox/merges/{first}/split").status_code == 302
    assert _owner(sms_order) == by_sms
    sms_conversation = db.session.scalar(select(Conversation).where(Conversation.channel == "sms"))
    assert sms_conversation.customer_id == by_sms


def _merge(org_id: int, *, target: int, source: int) -> int:
    from app.inbox import merges

    return merges.customer_merge(org_id=org_id, target_id=target, source_id=source, by=None).id
