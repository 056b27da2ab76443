"""inbox channels: numbers and mailboxes per organisation with encrypted credentials, honest delivery
states, hook receipts against replays, customer merges; channel and webhook secrets encrypted

Revision ID: 0019
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def _encrypt_column(table: str, column: str) -> None:
    # Values written before secrets were encrypted: encrypt them under the app's ENCRYPTION_KEY.
    from app.core import crypto

    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table}")).all()
    for row_id, value in rows:
        if value is not None:
            bind.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :i"),
                         {"v": crypto.encrypt(value), "i": row_id})


def _decrypt_column(table: str, column: str) -> None:
    from app.core import crypto

    bind = op.get_bind()
    for row_id, value in bind.execute(sa.text(f"SELECT id, {column} FROM {table}")).all():
        if value is not None:
            bind.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :i"),
                         {"v": crypto.decrypt(value), "i": row_id})


def _sqlite_foreign_keys(on: bool) -> None:
    # SQLite cannot add a foreign key to a table, so batch mode copies conversations, messages and
    # webhook_endpoints into new tables and drops the old ones; with rows pointing at them, that drop
    # fails while foreign keys are enforced. They are switched off for the copy and checked afterwards.
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if on:
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    raw = bind.connection.dbapi_connection
    if raw.in_transaction:  # SQLite ignores the PRAGMA inside a transaction (SQLite's DDL is not transactional here)
        raw.commit()
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    _sqlite_foreign_keys(False)
    op.create_table(
        "inbox_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("sms", "whatsapp", "email", name="channel", native_enum=False, length=20),
                  nullable=False),
        sa.Column("provider", sa.Enum("twilio", "meta", "smtp", "mailgun", "postmark", "rfc822", name="provider",
                                      native_enum=False, length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=254), server_default="", nullable=False),
        sa.Column("hook_token", sa.String(length=64), nullable=False),
        sa.Column("hook_url", sa.String(length=500), server_default="", nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("last_test", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_inbox_channels_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_channels")),
        sa.UniqueConstraint("hook_token", name=op.f("uq_inbox_channels_hook_token")),
    )
    op.create_index(op.f("ix_inbox_channels_organisation_id"), "inbox_channels", ["organisation_id"])
    op.create_table(
        "hook_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_hook_receipts_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="SET NULL",
                                name=op.f("fk_hook_receipts_message_id_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hook_receipts")),
        sa.UniqueConstraint("organisation_id", "digest", name=op.f("uq_hook_receipts_organisation_id_digest")),
    )
    op.create_index(op.f("ix_hook_receipts_organisation_id"), "hook_receipts", ["organisation_id"])
    op.create_table(
        "customer_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("split_at", sa.DateTime(), nullable=True),
        sa.Column("split_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_customer_merges_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["target_id"], ["customers.id"], name=op.f("fk_customer_merges_target_id_customers")),
        sa.ForeignKeyConstraint(["source_id"], ["customers.id"], name=op.f("fk_customer_merges_source_id_customers")),
        sa.ForeignKeyConstraint(["merged_by_id"], ["users.id"], name=op.f("fk_customer_merges_merged_by_id_users")),
        sa.ForeignKeyConstraint(["split_by_id"], ["users.id"], name=op.f("fk_customer_merges_split_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_merges")),
    )
    op.create_index(op.f("ix_customer_merges_organisation_id"), "customer_merges", ["organisation_id"])
    op.create_index(op.f("ix_customer_merges_target_id"), "customer_merges", ["target_id"])
    with op.batch_alter_table("customer_profiles") as batch:
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_customer_profiles_merged_into_id_customers"), "customers",
                                 ["merged_into_id"], ["id"])
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("channel_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_conversations_channel_id_inbox_channels"), "inbox_channels",
                                 ["channel_id"], ["id"], ondelete="SET NULL")
        batch.create_index(op.f("ix_conversations_channel_id"), ["channel_id"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("channel_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("status_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(op.f("fk_messages_channel_id_inbox_channels"), "inbox_channels",
                                 ["channel_id"], ["id"], ondelete="SET NULL")
        batch.create_index(op.f("ix_messages_channel_id"), ["channel_id"])
    # Replies that only reached the local outbox were shown as "sent": say what really happened.
    op.execute("UPDATE messages SET delivery_status = 'outbox' WHERE delivery_status = 'sent' "
               "AND id IN (SELECT message_id FROM outbox_messages)")
    # The generated "Twilio auth token" and the custom e-mail hook are replaced by real channels.
    with op.batch_alter_table("channel_configs") as batch:
        batch.drop_column("twilio_auth_token")
        batch.drop_column("email_secret")
        batch.alter_column("json_secret", type_=sa.Text(), existing_type=sa.String(length=128))
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column("secret", type_=sa.Text(), existing_type=sa.String(length=128))
    _encrypt_column("channel_configs", "json_secret")
    _encrypt_column("webhook_endpoints", "secret")
    _sqlite_foreign_keys(True)


def downgrade():
    _sqlite_foreign_keys(False)
    _decrypt_column("webhook_endpoints", "secret")
    _decrypt_column("channel_configs", "json_secret")
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column("secret", type_=sa.String(length=128), existing_type=sa.Text())
    with op.batch_alter_table("channel_configs") as batch:
        batch.alter_column("json_secret", type_=sa.String(length=128), existing_type=sa.Text())
        batch.add_column(sa.Column("email_secret", sa.String(length=128), server_default="", nullable=False))
        batch.add_column(sa.Column("twilio_auth_token", sa.String(length=128), server_default="", nullable=False))
    op.execute("UPDATE messages SET delivery_status = 'sent' WHERE delivery_status IN ('outbox', 'delivered', 'read')")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index(op.f("ix_messages_channel_id"))
        batch.drop_constraint(op.f("fk_messages_channel_id_inbox_channels"), type_="foreignkey")
        for column in ("status_at", "next_attempt_at", "attempts", "channel_id"):
            batch.drop_column(column)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index(op.f("ix_conversations_channel_id"))
        batch.drop_constraint(op.f("fk_conversations_channel_id_inbox_channels"), type_="foreignkey")
        batch.drop_column("channel_id")
    with op.batch_alter_table("customer_profiles") as batch:
        batch.drop_constraint(op.f("fk_customer_profiles_merged_into_id_customers"), type_="foreignkey")
        batch.drop_column("merged_into_id")
    op.drop_table("customer_merges")
    op.drop_table("hook_receipts")
    op.drop_table("inbox_channels")
    _sqlite_foreign_keys(True)
