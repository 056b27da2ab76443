"""orders: customers, order number counters, orders, order items, order events, designs

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUSES = ("draft", "confirmed", "in_production", "shipped", "delivered", "cancelled", "refunded")


def _id():
    return sa.Column("id", sa.Integer(), nullable=False)


def _org(table):
    return [sa.Column("organisation_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                    name=f"fk_{table}_organisation_id_organisations")]


def _money(name):
    return sa.Column(name, sa.Numeric(12, 2), nullable=False)


def _org_index(table):
    with op.batch_alter_table(table) as batch_op:
        batch_op.create_index(f"ix_{table}_organisation_id", ["organisation_id"], unique=False)


def upgrade():
    op.create_table(
        "customers", _id(), *_org("customers"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), server_default="", nullable=False),
        sa.Column("phone", sa.String(40), server_default="", nullable=False),
        sa.Column("shipping_address", sa.Text(), server_default="", nullable=False),
        sa.Column("billing_address", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    _org_index("customers")
    with op.batch_alter_table("customers") as batch_op:
        batch_op.create_index("ix_customers_organisation_id_email", ["organisation_id", "email"], unique=False)

    op.create_table(
        "order_sequences", _id(), *_org("order_sequences"),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_sequences"),
        sa.UniqueConstraint("organisation_id", "year", name="uq_order_sequences_organisation_id_year"),
    )
    _org_index("order_sequences")

    op.create_table(
        "orders", _id(), *_org("orders"),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("status", sa.Enum(*STATUSES, name="orderstatus", native_enum=False, length=20), nullable=False),
        sa.Column("source", sa.String(20), server_default="manual", nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("customer_email", sa.String(254), server_default="", nullable=False),
        sa.Column("customer_phone", sa.String(40), server_default="", nullable=False),
        sa.Column("shipping_address", sa.Text(), server_default="", nullable=False),
        sa.Column("billing_address", sa.Text(), server_default="", nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("subtotal"),
        sa.Column("tax_rate", sa.Numeric(5, 2), nullable=False),
        _money("tax"), _money("shipping"), _money("total"),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_orders_customer_id_customers"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name="fk_orders_created_by_id_users"),
        sa.CheckConstraint("subtotal >= 0 AND tax >= 0 AND shipping >= 0 AND total >= 0",
                           name="ck_orders_money_not_negative"),
        sa.CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="ck_orders_tax_rate_percent"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("organisation_id", "number", name="uq_orders_organisation_id_number"),
    )
    _org_index("orders")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.create_index("ix_orders_organisation_id_status", ["organisation_id", "status"], unique=False)
        batch_op.create_index("ix_orders_customer_id", ["customer_id"], unique=False)
        batch_op.create_index("ix_orders_created_at", ["created_at"], unique=False)

    op.create_table(
        "designs", _id(), *_org("designs"),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("product_item_id", sa.Integer(), nullable=False),
        sa.Column("component_item_ids", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["product_item_id"], ["inventory_items.id"],
                                name="fk_designs_product_item_id_inventory_items"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name="fk_designs_created_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_designs"),
        sa.UniqueConstraint("organisation_id", "name", name="uq_designs_organisation_id_name"),
    )
    _org_index("designs")
    with op.batch_alter_table("designs") as batch_op:
        batch_op.create_index("ix_designs_product_item_id", ["product_item_id"], unique=False)

    op.create_table(
        "order_items", _id(), *_org("order_items"),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("design_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        _money("unit_price"),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _money("line_total"),
        sa.Column("customisation", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_order_items_order_id_orders",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["inventory_items.id"], name="fk_order_items_item_id_inventory_items"),
        sa.ForeignKeyConstraint(["design_id"], ["designs.id"], name="fk_order_items_design_id_designs",
                                ondelete="SET NULL"),
        sa.CheckConstraint("quantity > 0", name="ck_order_items_quantity_positive"),
        sa.CheckConstraint("unit_price >= 0", name="ck_order_items_unit_price_not_negative"),
        sa.PrimaryKeyConstraint("id", name="pk_order_items"),
    )
    _org_index("order_items")
    with op.batch_alter_table("order_items") as batch_op:
        batch_op.create_index("ix_order_items_order_id", ["order_id"], unique=False)
        batch_op.create_index("ix_order_items_item_id", ["item_id"], unique=False)

    op.create_table(
        "order_events", _id(), *_org("order_events"),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_order_events_order_id_orders",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name="fk_order_events_actor_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_order_events"),
    )
    _org_index("order_events")
    with op.batch_alter_table("order_events") as batch_op:
        batch_op.create_index("ix_order_events_order_id", ["order_id"], unique=False)


def downgrade():
    for table in ("order_events", "order_items", "designs", "orders", "order_sequences", "customers"):
        op.drop_table(table)
