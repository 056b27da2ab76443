"""message attachments: one row per file a customer sent (where the provider keeps it, our checked copy
with its hash, size and type, the download's state and tries, the hand-off to the product pipeline),
replacing the JSON list on messages

Revision ID: 0027
Revises: 0026
"""
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# Files listed before downloads were kept: a link can be fetched again by hand, an e-mail part cannot.
LINK_REASON = "received before attachments were downloaded: Retry download fetches it now"
PART_REASON = "received before attachments were stored: only its name was kept"


def _sqlite_foreign_keys(on: bool) -> None:
    # Dropping a column makes SQLite's batch mode copy `messages` into a new table and drop the old
    # one, which fails while rows of other tables point at it: foreign keys are off for the copy
    # and checked afterwards.
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if on:
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    raw = bind.connection.dbapi_connection
    if raw.in_transaction:
        raw.commit()
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _text(value, limit: int) -> str:
    return str(value or "")[:limit]


def _row(org_id: int, message_id: int, position: int, item: dict, now) -> dict:
    link = bool(item.get("url") or item.get("media_id"))
    pipeline = item.get("pipeline") if isinstance(item.get("pipeline"), dict) else {}
    handoff = pipeline.get("status") if pipeline.get("status") in ("done", "failed") else ""
    size = item.get("size")
    return {"organisation_id": org_id, "message_id": message_id, "position": position,
            "filename": _text(item.get("filename"), 255), "content_type": _text(item.get("content_type"), 100),
            "declared_size": size if isinstance(size, int) and not isinstance(size, bool) else None,
            "url": _text(item.get("url"), 1000), "media_id": _text(item.get("media_id"), 200),
            "status": "failed" if link else "refused", "reason": LINK_REASON if link else PART_REASON,
            "attempts": 0, "status_at": now, "handoff": handoff, "handoff_reason": _text(pipeline.get("reason"), 1000),
            "product_id": pipeline.get("product_id") if handoff == "done" else None, "created_at": now}


def _copy_json_lists(table) -> None:
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for message_id, org_id, raw in bind.execute(sa.text(
            "SELECT id, organisation_id, attachments FROM messages WHERE attachments IS NOT NULL")).all():
        items = json.loads(raw) if isinstance(raw, str) else raw
        if isinstance(items, list):
            rows += [_row(org_id, message_id, i, item, now) for i, item in enumerate(items) if isinstance(item, dict)]
    if rows:
        bind.execute(table.insert(), rows)


def upgrade():
    _sqlite_foreign_keys(False)
    table = op.create_table(
        "message_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), server_default="", nullable=False),
        sa.Column("content_type", sa.String(length=100), server_default="", nullable=False),
        sa.Column("declared_size", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("media_id", sa.String(length=200), server_default="", nullable=False),
        sa.Column("status", sa.Enum("pending", "stored", "failed", "refused", name="attachmentstatus",
                                    native_enum=False, length=20), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("thumb_sha256", sa.String(length=64), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("mime", sa.String(length=100), server_default="", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("status_at", sa.DateTime(), nullable=True),
        sa.Column("handoff", sa.Enum("", "queued", "done", "failed", name="handoffstatus", native_enum=False,
                                     length=20), server_default="", nullable=False),
        sa.Column("handoff_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_message_attachments_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE",
                                name=op.f("fk_message_attachments_message_id_messages")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="SET NULL",
                                name=op.f("fk_message_attachments_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attachments")),
        sa.UniqueConstraint("message_id", "position", name=op.f("uq_message_attachments_message_id_position")),
    )
    op.create_index(op.f("ix_message_attachments_organisation_id"), "message_attachments", ["organisation_id"])
    op.create_index(op.f("ix_message_attachments_message_id"), "message_attachments", ["message_id"])
    op.create_index("ix_message_attachments_status_next_attempt_at", "message_attachments",
                    ["status", "next_attempt_at"])
    _copy_json_lists(table)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("attachments")
    _sqlite_foreign_keys(True)


def downgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
    bind = op.get_bind()
    lists: dict[int, list] = {}
    for message_id, filename, content_type, url, media_id, size in bind.execute(sa.text(
            "SELECT message_id, filename, content_type, url, media_id, COALESCE(size_bytes, declared_size) "
            "FROM message_attachments ORDER BY message_id, position")).all():
        item = {"url": url, "filename": filename, "content_type": content_type, "size": size}
        if media_id:
            item["media_id"] = media_id
        lists.setdefault(message_id, []).append(item)
    for message_id, items in lists.items():
        bind.execute(sa.text("UPDATE messages SET attachments = :a WHERE id = :i"),
                     {"a": json.dumps(items), "i": message_id})
    op.execute("UPDATE messages SET attachments = '[]' WHERE attachments IS NULL")
    with op.batch_alter_table("messages") as batch:
        batch.alter_column("attachments", existing_type=sa.JSON(), nullable=False)
    op.drop_table("message_attachments")
    _sqlite_foreign_keys(True)
