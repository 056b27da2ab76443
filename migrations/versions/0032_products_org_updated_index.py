"""products: an (organisation, updated_at) index, from which the analysis phase reads how many
products there are and when one last changed

Revision ID: 0032
Revises: 0031

Before each product, a work horse checks whether the organisation's products changed since it
last read them (app.pipeline.catalogue). Counting them and finding the latest change read every
product row: 6 ms at 10,000 products (SQLite); from this index, well under a millisecond.
"""
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_products_org_updated", "products", ["organisation_id", "updated_at"])


def downgrade():
    op.drop_index("ix_products_org_updated", table_name="products")
