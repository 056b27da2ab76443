"""tech-file collections run under a lease, so a dead worker's collection resumes by itself

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tech_collections") as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("tech_collections") as batch_op:
        batch_op.drop_column("lease_until")
