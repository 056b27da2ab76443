"""outages: a model call is written before it is sent and finished when its answer is, so a call left
unfinished by a worker that died is visible, and the call that repeats it says so

Revision ID: 0022
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ai_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finished", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("repeat_of_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("ai_calls", schema=None) as batch_op:
        batch_op.drop_column("repeat_of_id")
        batch_op.drop_column("finished")
