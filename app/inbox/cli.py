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


@inbox_cli.command("demo")
@click.option("--org", "org_name", required=True, help="Organisation name.")
def demo_command(org_name: str) -> None:
    """Receive two sample messages (one clear order from the catalogue, one vague) to try the inbox."""
    from sqlalchemy import select

    from app.core.models import Organisation
    from app.extensions import db
    from app.inbox import services
    from app.inbox.models import Channel
    from app.inventory.models import Item

    org = db.session.scalar(select(Organisation).where(Organisation.name == org_name))
    if org is None:
        raise click.ClickException(f"No organisation named {org_name!r}.")
    items = db.session.scalars(select(Item).where(Item.organisation_id == org.id, Item.discontinued.is_(False),
                                                  Item.price.is_not(None)).order_by(Item.id).limit(2)).all()
    if len(items) < 2:
        raise click.ClickException("The organisation needs at least two priced items in inventory first.")
    text = f"Hi, please send 3 boxes of {items[0].title} and 2 {items[1].title} by Friday"
    for sender, body, ident in (("+447700900001", text, "demo-1"), ("+447700900002", "the usual please", "demo-2")):
        message, new = services.message_receive(org_id=org.id, channel=Channel.WHATSAPP, sender=sender, body=body,
                                                external_id=ident, sender_name="Demo customer")
        click.echo(f"{'received' if new else 'already there'}: {body!r}")


def init_app(app) -> None:
    app.cli.add_command(inbox_cli)
