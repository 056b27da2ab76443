"""inventory shortfall index holds whether anything is available too: the "low stock" and "out of
stock" counts are read from the index alone

Revision ID: 0031
Revises: 0030

A status is a shortfall range and an "available" condition (low stock: shortfall ≤ 0 and
available > 0, compared as reserved − on_hand < 0: Item.status_clause). The index held the
shortfall only, so counting the matches read every matching row: 20 ms at 50,000 items with 13,600
low on stock (SQLite); with the expression in the index, 1.7 ms.
"""
import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_inventory_items_org_shortfall", table_name="inventory_items")
    op.create_index("ix_inventory_items_org_shortfall", "inventory_items",
                    ["organisation_id", "discontinued", sa.text("(on_hand - reserved - reorder_point)"),
                     sa.text("(reserved - on_hand)")])


def downgrade():
    op.drop_index("ix_inventory_items_org_shortfall", table_name="inventory_items")
    op.create_index("ix_inventory_items_org_shortfall", "inventory_items",
                    ["organisation_id", "discontinued", sa.text("(on_hand - reserved - reorder_point)")])
