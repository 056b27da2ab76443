"""Migration 0026: the JSON list of attachments on each message becomes one row per file, and back."""
from __future__ import annotations

import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.extensions import db
from app.inbox.models import Message
from tests.inbox.helpers import channel, post_json
from tests.pipeline.helpers import create_product

TWILIO_MEDIA = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"


def _rows(sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_json_attachments_become_rows_with_what_can_be_done_about_them(app, org, manager, client):
    product_id = create_product(org, manager, start=False).id
    post_json(client, channel(org.id), {"id": "mig-a", "from": "+15550100", "text": "this one"})
    message_id = db.session.query(Message).one().id
    db.session.commit()
    db.session.remove()
    old = [{"url": TWILIO_MEDIA, "content_type": "image/jpeg", "pipeline": {"status": "done", "product_id": product_id}},
           {"url": "", "filename": "po.pdf", "content_type": "application/pdf", "size": 16},
           {"url": "", "media_id": "1003383421387256", "content_type": "image/jpeg", "filename": ""}]
    try:
        downgrade(revision="0026")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE messages SET attachments = :a WHERE id = :i"),
                         {"a": json.dumps(old), "i": message_id})
        upgrade(revision="0027")
        rows = _rows("SELECT message_id, position, url, media_id, filename, declared_size, status, reason, handoff, "
                     "product_id, sha256 FROM message_attachments ORDER BY position")
        assert [r[:6] for r in rows] == [(message_id, 0, TWILIO_MEDIA, "", "", None),
                                         (message_id, 1, "", "", "po.pdf", 16),
                                         (message_id, 2, "", "1003383421387256", "", None)]
        assert [r[6] for r in rows] == ["failed", "refused", "failed"]  # a link can be fetched by hand; a part not
        assert "Retry download" in rows[0][7] and "only its name" in rows[1][7]
        assert [(r[8], r[9], r[10]) for r in rows] == [("done", product_id, None), ("", None, None), ("", None, None)]
        downgrade(revision="0026")
        [(back,)] = _rows(f"SELECT attachments FROM messages WHERE id = {message_id}")
        back = json.loads(back) if isinstance(back, str) else back
        assert [(a["url"], a["filename"], a.get("media_id")) for a in back] == [
            (TWILIO_MEDIA, "", None), ("", "po.pdf", None), ("", "", "1003383421387256")]
    finally:
        db.engine.dispose()
        upgrade(revision="heads")
