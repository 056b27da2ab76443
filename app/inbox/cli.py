"""`flask inbox …`: operator commands that re-queue work whose job was lost, and the offline reader."""
from __future__ import annotations

import click
from flask.cli import AppGroup

inbox_cli = AppGroup("inbox", help="Inbox: read messages offline, re-queue lost extraction and webhook jobs.")


@inbox_cli.command("sweep")
def sweep_command() -> None:
    """Queue extraction for inbound messages never read, and webhook deliveries, reply tries and attachment
    downloads that are due; delete replay receipts past their retention."""
    from sqlalchemy import select

    from app.core.queue import enqueue
    from app.extensions import db
    from app.inbox import tasks
    from app.inbox.channels.attachments import downloads_due
    from app.inbox.channels.delivery import replies_due
    from app.inbox.channels.services import receipts_prune
    from app.inbox.channels.tasks import attachment_download, reply_deliver
    from app.inbox.models import Direction, Message
    from app.inbox.webhooks_out import deliveries_due

    unread = db.session.execute(select(Message.id, Message.organisation_id).where(
        Message.direction == Direction.IN, Message.processed.is_(False)).limit(1000)).all()
    for message_id, org_id in unread:
        enqueue(tasks.extract_message, message_id, org_id=org_id)
    due = deliveries_due()
    for delivery_id in due:
        enqueue(tasks.deliver_webhook, delivery_id, queue="low")
    replies = replies_due()
    for message_id, org_id in replies:
        enqueue(reply_deliver, message_id, org_id=org_id, queue="high")
    downloads = downloads_due()
    for attachment_id, org_id in downloads:
        enqueue(attachment_download, attachment_id, org_id=org_id)
    pruned = receipts_prune()
    click.echo(f"messages queued for extraction: {len(unread)}, webhook deliveries queued: {len(due)}, "
               f"reply tries queued: {len(replies)}, attachment downloads queued: {len(downloads)}, "
               f"replay receipts deleted: {pruned}")


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


@inbox_cli.command("read", with_appcontext=False)
@click.option("--catalogue", "catalogue_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help='JSON list of {"sku", "title", "aliases": [...]}.')
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message (else a short summary).")
@click.option("--threshold", default=80, show_default=True, help="Confidence needed for one click.")
def read_command(catalogue_path: str, as_json: bool, threshold: int) -> None:
    """Read messages from standard input (one JSON object with a "text" per line) against a catalogue file.

    Offline: no database and no Redis are used; the reading is the inbox's own.
    """
    import json
    import sys
    from datetime import UTC, datetime

    from app.inbox import extractor
    from app.inbox.reading import Catalogue

    try:
        with open(catalogue_path, encoding="utf-8") as handle:
            entries = extractor.entries_from_json(json.load(handle))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise click.ClickException(f"The catalogue is not a JSON list of {{sku, title, aliases}}: {exc}") from None
    catalogue = Catalogue(entries)
    for raw in sys.stdin:
        if not raw.strip():
            continue
        text, received = _message(raw)
        result = extractor.extract(text, received or datetime.now(UTC), entries, threshold, catalogue=catalogue)
        answer = extractor.as_json(text, result)
        if as_json:
            click.echo(json.dumps(answer, ensure_ascii=False))
        else:
            lines = ", ".join(f"{x['quantity']} × {x['sku']}" for x in answer["lines"]) or "no lines"
            verdict = "one click" if answer["one_click"] else "review"
            click.echo(f"[{answer['kind']}, {verdict}, {answer['confidence']}] {lines}; "
                       f"not understood: {len(answer['not_understood'])}")


def _message(raw: str):
    """(text, received time or None) of one input line; a line that is not JSON is the text itself."""
    import json
    from datetime import datetime

    try:
        data = json.loads(raw)
    except ValueError:
        return raw.rstrip("\n"), None
    if not isinstance(data, dict):
        return str(data), None
    received = None
    if data.get("received"):
        try:
            received = datetime.fromisoformat(str(data["received"]))
        except ValueError:
            received = None
    return str(data.get("text") or ""), received


def init_app(app) -> None:
    app.cli.add_command(inbox_cli)
