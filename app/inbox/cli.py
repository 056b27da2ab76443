"""`flask inbox …`: operator commands that re-queue work whose job was lost."""
from __future__ import annotations

import click
from flask.cli import AppGroup

inbox_cli = AppGroup("inbox", help="Inbox: re-queue lost extraction and webhook jobs.")


@inbox_cli.command("sweep")
def sweep_command() -> None:
    """Queue extraction for inbound messages never read, and webhook deliveries whose retry is due."""
    from sqlalchemy import select

    from app.core.queue import enqueue
    from app.extensions import db
    from app.inbox.models import Direction, Message
    from app.inbox.webhooks_out import deliveries_due

    unread = db.session.execute(select(Message.id, Message.organisation_id).where(
        Message.direction == Direction.IN, Message.processed.is_(False)).limit(1000)).all()
    for message_id, org_id in unread:
        enqueue("app.inbox.tasks.extract_message", message_id, org_id=org_id)
    due = deliveries_due()
    for delivery_id in due:
        enqueue("app.inbox.tasks.deliver_webhook", delivery_id, queue="low")
    click.echo(f"messages queued for extraction: {len(unread)}, webhook deliveries queued: {len(due)}")


def init_app(app) -> None:
    app.cli.add_command(inbox_cli)
