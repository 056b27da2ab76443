"""Channel jobs: given ids, idempotent (each checks the row's state first), thin over the services."""
from __future__ import annotations

from app.inbox.channels import delivery


def reply_deliver(message_id: int) -> None:
    delivery.reply_attempt(message_id=message_id)


def channel_test_deliver(channel_id: int, recipient: str) -> None:
    delivery.test_message_send(channel_id=channel_id, recipient=recipient)


def attachment_download(attachment_id: int) -> None:
    from app.inbox.channels import attachments

    attachments.attachment_download(attachment_id=attachment_id)


def attachment_handoff(attachment_id: int, user_id: int | None) -> None:
    from app.inbox.channels import attachments

    attachments.handoff_run(attachment_id=attachment_id, user_id=user_id)
