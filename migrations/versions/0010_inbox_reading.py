"""inbox reading: each extraction keeps the message's kind, the parts not understood (with who
resolved them) and, when the text model disagreed with the offline reader, the other reading

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("extractions") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(20), server_default="order", nullable=False))
        batch_op.add_column(sa.Column("not_understood", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("other_reading", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("extractions") as batch_op:
        batch_op.drop_column("other_reading")
        batch_op.drop_column("not_understood")
        batch_op.drop_column("kind")
