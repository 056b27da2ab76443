"""audit log: the personal API token a change was made through (its id and its name at the time)

Revision ID: 0026
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('api_token_name', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('api_token_name')
        batch_op.drop_column('api_token_id')
