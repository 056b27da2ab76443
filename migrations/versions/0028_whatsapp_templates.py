"""whatsapp templates: the message templates an organisation registered per WhatsApp Cloud API
channel, and the template a reply was sent as

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "whatsapp_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=15), nullable=False),
        sa.Column("body_params", sa.Integer(), server_default="0", nullable=False),
        sa.Column("preview", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["inbox_channels.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "name", "language"),
    )
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.create_index(batch.f("ix_whatsapp_templates_channel_id"), ["channel_id"], unique=False)
        batch.create_index(batch.f("ix_whatsapp_templates_organisation_id"), ["organisation_id"], unique=False)
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("template", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("template")
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.drop_index(batch.f("ix_whatsapp_templates_organisation_id"))
        batch.drop_index(batch.f("ix_whatsapp_templates_channel_id"))
    op.drop_table("whatsapp_templates")
