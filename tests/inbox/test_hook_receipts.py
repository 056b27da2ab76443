"""Replay receipts of signed webhook bodies: one request of two taking the same body at once stores it
(the receipt is claimed with the message, under its unique key), and receipts past their retention are
deleted by the periodic sweep and by `flask inbox sweep`, never within the replay window."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy import update as sa_update

from app.core import leases
from app.core.models import utcnow
from app.core.queue import get_redis, key
from app.extensions import db
from app.inbox import services
from app.inbox.channels import services as channel_services
from app.inbox.channels.models import HookReceipt
from app.inbox.models import Channel, Message
from tests.inbox.helpers import channel, post_json


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_the_same_body_taken_by_two_requests_at_once_is_stored_once(app, org, client):
    # The second request passed the replay check before the first one committed: it reaches the store.
    digest = channel_services.body_digest(b'{"from": "+15550101", "text": "2 rings"}')
    first, new = services.message_receive(org_id=org.id, channel=Channel.SMS, sender="+15550101", body="2 rings",
                                          external_id=None, receipt_digest=digest)
    again, again_new = services.message_receive(org_id=org.id, channel=Channel.SMS, sender="+15550101",
                                                body="2 rings", external_id=None, receipt_digest=digest)
    assert new and not again_new and again.id == first.id
    assert _count(Message) == 1 and _count(HookReceipt) == 1
    # Through the relay's address, a replay is answered with the first message.
    config = channel(org.id)
    payload = {"from": "+15550102", "text": "3 chains"}
    assert post_json(client, config, payload).status_code == 201
    replay = post_json(client, config, payload)
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    assert _count(Message) == 2


def test_an_expired_receipt_gives_way_to_the_same_body_sent_again(app, org, client):
    config = channel(org.id)
    payload = {"from": "+15550103", "text": "the usual"}
    post_json(client, config, payload)
    receipt = db.session.scalar(select(HookReceipt))
    receipt.created_at = utcnow() - timedelta(days=8)  # past the 7-day replay window
    db.session.commit()
    assert post_json(client, config, payload).status_code == 201
    assert _count(Message) == 2 and _count(HookReceipt) == 1


def _receipts(org_id: int, ages_days: list[float]) -> None:
    now, start = utcnow(), _count(HookReceipt) + 1000
    db.session.add_all([HookReceipt(organisation_id=org_id, digest=f"{start + i:064x}",
                                    created_at=now - timedelta(days=age)) for i, age in enumerate(ages_days)])
    db.session.commit()


def test_receipts_past_retention_are_pruned_by_the_periodic_sweep(app, org):
    _receipts(org.id, [0, 6, 29, 31, 400])
    get_redis().delete(key("inbox", "receipts-pruned"))
    assert leases.run_sweepers()["hook-receipts"] is False  # never keeps the sweep busy
    ages = sorted(round((utcnow() - r.created_at).total_seconds() / 86400) for r in db.session.scalars(
        select(HookReceipt)))
    assert ages == [0, 6, 29]
    _receipts(org.id, [50])
    leases.run_sweepers()  # within the hour: the sweep does not look again
    assert _count(HookReceipt) == 4


def test_retention_never_undercuts_the_replay_window_and_the_command_prunes_too(app, org):
    app.config["CHANNELS_RECEIPT_RETENTION_DAYS"] = 1
    _receipts(org.id, [0.5, 3, 6.5, 8, 9])
    assert channel_services.receipts_prune(batch=1) == 2  # in batches; the last 7 days stay (replay window)
    assert _count(HookReceipt) == 3
    _receipts(org.id, [10])
    output = app.test_cli_runner().invoke(args=["inbox", "sweep"]).output
    assert "replay receipts deleted: 1" in output, output


def test_a_status_report_that_comes_in_during_the_send_is_not_overwritten(app, org, staff):
    from app.inbox.channels import delivery
    from app.inbox.channels.base import SendFailed, Sent

    received, _ = services.message_receive(org_id=org.id, channel=Channel.SMS, sender="+15550104", body="hi",
                                           external_id="race-1")
    replies = [services.reply_send(org_id=org.id, conversation_id=received.conversation_id, body=f"reply {n}",
                                   by=staff).id for n in (1, 2)]
    for reply_id in replies:  # each try is taken, then the provider's report lands while the job is in its call
        assert delivery._claim_try(db.session.get(Message, reply_id))
        db.session.commit()
        db.session.execute(sa_update(Message).where(Message.id == reply_id).values(delivery_status="delivered"))
    db.session.commit()
    delivery._record_sent(replies[0], Sent(external_id="SM-race"))
    delivery._record_failure(replies[1], SendFailed("timed out", retryable=True))
    db.session.expire_all()
    sent, failed = (db.session.get(Message, i) for i in replies)
    assert (sent.delivery_status, sent.external_id, sent.attempts) == ("delivered", "SM-race", 1)
    assert (failed.delivery_status, failed.delivery_error, failed.next_attempt_at) == ("delivered", "", None)


def test_of_two_download_tries_at_once_the_first_to_finish_is_kept(app, org):
    from app.inbox.channels import attachments
    from app.inbox.models import MessageAttachment

    message, _ = services.message_receive(
        org_id=org.id, channel=Channel.EMAIL, sender="files@example.com", body="form", external_id="race-2",
        attachments=[{"filename": "form.pdf", "content_type": "application/pdf", "content": b"%PDF-1.4\n%%EOF\n"}])
    attachment_id = message.attachments[0].id
    attachments._record(attachment_id, attachments.STORED, reason="", mime="application/pdf")
    attachments._record(attachment_id, attachments.REFUSED, reason="late try")
    db.session.expire_all()
    row = db.session.get(MessageAttachment, attachment_id)
    assert (row.status, row.reason, row.attempts) == ("stored", "", 1)
