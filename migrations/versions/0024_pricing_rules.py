"""pricing rules: an organisation's markup on cost, price ending and minimum margin

Revision ID: 0024
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pricing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('markup_percent', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('price_ending', sa.Numeric(precision=3, scale=2), nullable=True),
    sa.Column('min_margin_percent', sa.Numeric(precision=5, scale=2), server_default='0', nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_pricing_rules_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_pricing_rules_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pricing_rules')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_pricing_rules_organisation_id'))
    )


def downgrade():
    op.drop_table('pricing_rules')
