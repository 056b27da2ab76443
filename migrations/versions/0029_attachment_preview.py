"""attachment preview: a PDF's first page as text, shown on the conversation

Revision ID: 0029
Revises: 0028
"""
import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("message_attachments") as batch:
        batch.add_column(sa.Column("preview", sa.Text(), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("message_attachments") as batch:
        batch.drop_column("preview")
