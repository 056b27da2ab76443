"""inbox: customer profiles, channels, conversations, messages, extractions, usage, webhooks

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _enum(name, *values, length=20):
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def _table(name, *columns, index_org=True, extra_indexes=()):
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], name=f"fk_{name}_organisation_id_organisations"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
    )
    with op.batch_alter_table(name) as batch_op:
        if index_org:
            batch_op.create_index(f"ix_{name}_organisation_id", ["organisation_id"], unique=False)
        for cols in extra_indexes:
            batch_op.create_index(f"ix_{name}_{'_'.join(cols)}", list(cols), unique=False)


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete)


CHANNELS = ("sms", "whatsapp", "email")


def upgrade():
    _table("customer_profiles",
           sa.Column("customer_id", sa.Integer(), nullable=False),
           sa.Column("phones", sa.JSON(), nullable=False),
           sa.Column("emails", sa.JSON(), nullable=False),
           sa.Column("labels", sa.JSON(), nullable=False),
           sa.Column("flags", sa.JSON(), nullable=False),
           sa.Column("notes", sa.Text(), server_default="", nullable=False),
           sa.Column("erased_at", sa.DateTime(), nullable=True),
           sa.Column("created_at", sa.DateTime(), nullable=False),
           _fk("customer_profiles", "customer_id", "customers"),
           sa.UniqueConstraint("customer_id", name="uq_customer_profiles_customer_id"))
    _table("channel_configs",
           sa.Column("hook_token", sa.String(64), nullable=False),
           sa.Column("twilio_auth_token", sa.String(128), nullable=False),
           sa.Column("json_secret", sa.String(128), nullable=False),
           sa.Column("email_secret", sa.String(128), nullable=False),
           sa.Column("created_at", sa.DateTime(), nullable=False),
           sa.Column("rotated_at", sa.DateTime(), nullable=True),
           sa.UniqueConstraint("organisation_id", name="uq_channel_configs_organisation_id"),
           sa.UniqueConstraint("hook_token", name="uq_channel_configs_hook_token"))
    _table("conversations",
           sa.Column("customer_id", sa.Integer(), nullable=False),
           sa.Column("channel", _enum("channel", *CHANNELS), nullable=False),
           sa.Column("address", sa.String(254), nullable=False),
           sa.Column("status", _enum("conversationstatus", "open", "closed"), nullable=False),
           sa.Column("assigned_to_id", sa.Integer(), nullable=True),
           sa.Column("unread_count", sa.Integer(), server_default="0", nullable=False),
           sa.Column("last_message_at", sa.DateTime(), nullable=False),
           sa.Column("created_at", sa.DateTime(), nullable=False),
           _fk("conversations", "customer_id", "customers"),
           _fk("conversations", "assigned_to_id", "users"),
           extra_indexes=[("customer_id",), ("organisation_id", "last_message_at")])
    _table("messages",
           sa.Column("conversation_id", sa.Integer(), nullable=False),
           sa.Column("direction", _enum("direction", "in", "out", length=4), nullable=False),
           sa.Column("channel", _enum("channel", *CHANNELS), nullable=False),
           sa.Column("external_id", sa.String(120), nullable=True),
           sa.Column("sender", sa.String(254), server_default="", nullable=False),
           sa.Column("subject", sa.String(300), server_default="", nullable=False),
           sa.Column("body", sa.Text(), server_default="", nullable=False),
           sa.Column("attachments", sa.JSON(), nullable=False),
           sa.Column("pii", sa.JSON(), nullable=False),
           sa.Column("processed", sa.Boolean(), server_default="0", nullable=False),
           sa.Column("delivery_status", sa.String(20), server_default="", nullable=False),
           sa.Column("delivery_error", sa.Text(), server_default="", nullable=False),
           sa.Column("sent_by_id", sa.Integer(), nullable=True),
           sa.Column("created_at", sa.DateTime(), nullable=False),
           _fk("messages", "conversation_id", "conversations"),
           _fk("messages", "sent_by_id", "users"),
           sa.UniqueConstraint("organisation_id", "channel", "external_id",
                               name="uq_messages_organisation_id_channel_external_id"),
           extra_indexes=[("conversation_id",), ("created_at",)])
    _table("outbox_messages",
           sa.Column("message_id", sa.Integer(), nullable=False),
           sa.Column("channel", sa.String(20), nullable=False),
           sa.Column("recipient", sa.String(254), nullable=False),
           sa.Column("subject", sa.String(300), server_default="", nullable=False),
           sa.Column("body", sa.Text(), nullable=False),
           sa.Column("created_at", sa.DateTime(), nullable=False),
           _fk("outbox_messages", "message_id", "messages"),
           extra_indexes=[("message_id",)])
    _table("extractions",
           sa.Column("message_id", sa.Integer(), nullable=False),
           sa.Column("status", _enum("extractionstatus", "ready", "review", "confirmed", "rejected"), nullable=False),
           sa.Column("confidence", sa.Integer(), nullable=False),
           sa.Column("provider", sa.String(40), nullable=False),
           sa.Column("provider_note", sa.Text(), server_default="", nullable=False),
           sa.Column("wanted_date", sa.Date(), nullable=True),
           sa.Column("wanted_text", sa.String(120), server_default="", nullable=False),
           sa.Column("address_hint", sa.Text(), server_default="", nullable=False),
           sa.Column("reasons", sa.JSON(), nullable=False),
           sa.Column("reject_reason", sa.Text(), server_default="", nullable=False),
           sa.Column("order_id", sa.Integer(), nullable=True),
           sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
           sa.Column("reviewed_at", sa.DateTime(), nullable=True),
           sa.Column("created_at", sa.DateTime(), nullable=False),
           _fk("extractions", "message_id", "messages"),
           _fk("extractions", "order_id", "orders"),
           _fk("extractions", "reviewed_by_id", "users"),
           sa.UniqueConstraint("message_id", name="uq_extractions_message_id"),
           extra_indexes=[("status",)])
    _table("extracted_lines",
           sa.Column("extraction_id", sa.Integer(), nullable=False),
           sa.Column("position", sa.Integer(), nullable=False),
           sa.Column("quantity", sa.Integer(), nullable=True),
           sa.Column("unit", sa.String(20), server_default="", nullable=False),
           sa.Column("product_text", sa.String(300), server_default="", nullable=False),
           sa.Column("item_id", sa.Integer(), nullable=True),
           sa.Column("confidence", sa.Integer(), nullable=False),
           sa.Column("evidence", sa.JSON(), nullable=False),
           sa.Column("status", sa.String(20), nullable=False),
           _fk("extracted_lines", "extraction_id", "extractions", ondelete="CASCADE"),
           _fk("extracted_lines", "item_id", "inventory_items"),
           extra_indexes=[("extraction_id",)])
    _table("extraction_feedback",
           sa.Column("extraction_id", sa.Integer(), nullable=False),
           sa.Column("line_id", sa.Integer(), nullable=True),
           sa.Column("product_text", sa.String(300), server_default="", nullable=False),
           sa.Column("original", sa.JSON(), nullable=False),
           sa.Column("corrected", sa.JSON(), nullable=False),
           sa.Column("by_user_id", sa.Integer(), nullable=True),
           sa.Column("created_at", sa.DateTime(), nullable=False),
           _fk("extraction_feedback", "extraction_id", "extractions", ondelete="CASCADE"),
           _fk("extraction_feedback", "line_id", "extracted_lines", ondelete="SET NULL"),
           _fk("extraction_feedback", "by_user_id", "users"),
           extra_indexes=[("extraction_id",)])
    _table("usage_records",
           sa.Column("provider", sa.String(80), nullable=False),
           sa.Column("message_id", sa.Integer(), nullable=True),
           sa.Column("calls", sa.Integer(), nullable=False),
           sa.Column("tokens_in", sa.Integer(), nullable=False),
           sa.Column("tokens_out", sa.Integer(), nullable=False),
           sa.Column("cost", sa.Numeric(12, 4), nullable=False),
           sa.Column("currency", sa.String(3), nullable=False),
           sa.Column("ok", sa.Boolean(), nullable=False),
           sa.Column("created_at", sa.DateTime(), nullable=False),
           _fk("usage_records", "message_id", "messages", ondelete="SET NULL"),
           extra_indexes=[("created_at",)])
    _table("budgets",
           sa.Column("currency", sa.String(3), nullable=False),
           sa.Column("warning_amount", sa.Numeric(12, 2), nullable=False),
           sa.Column("hard_limit", sa.Numeric(12, 2), nullable=False),
           sa.Column("updated_at", sa.DateTime(), nullable=False),
           sa.UniqueConstraint("organisation_id", name="uq_budgets_organisation_id"))
    _table("webhook_endpoints",
           sa.Column("url", sa.String(500), nullable=False),
           sa.Column("events", sa.JSON(), nullable=False),
           sa.Column("secret", sa.String(128), nullable=False),
           sa.Column("active", sa.Boolean(), nullable=False),
           sa.Column("failure_count", sa.Integer(), nullable=False),
           sa.Column("disabled_reason", sa.Text(), server_default="", nullable=False),
           sa.Column("created_at", sa.DateTime(), nullable=False))
    _table("webhook_deliveries",
           sa.Column("endpoint_id", sa.Integer(), nullable=False),
           sa.Column("event", sa.String(40), nullable=False),
           sa.Column("payload", sa.JSON(), nullable=False),
           sa.Column("status", sa.String(20), nullable=False),
           sa.Column("attempts", sa.Integer(), nullable=False),
           sa.Column("response_code", sa.Integer(), nullable=True),
           sa.Column("error", sa.Text(), server_default="", nullable=False),
           sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
           sa.Column("delivered_at", sa.DateTime(), nullable=True),
           sa.Column("created_at", sa.DateTime(), nullable=False),
           _fk("webhook_deliveries", "endpoint_id", "webhook_endpoints", ondelete="CASCADE"),
           extra_indexes=[("endpoint_id",), ("created_at",)])


def downgrade():
    for name in ("webhook_deliveries", "webhook_endpoints", "budgets", "usage_records", "extraction_feedback",
                 "extracted_lines", "extractions", "outbox_messages", "messages", "conversations",
                 "channel_configs", "customer_profiles"):
        op.drop_table(name)
