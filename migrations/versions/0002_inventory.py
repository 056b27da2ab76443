"""inventory: categories, items, stock movements, category rules, supplier imports and lines

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _org_fk(table):
    return sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                   name=f"fk_{table}_organisation_id_organisations")


def upgrade():
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=False),
        _org_fk("categories"),
        sa.ForeignKeyConstraint(["parent_id"], ["categories.id"], name="fk_categories_parent_id_categories"),
        sa.PrimaryKeyConstraint("id", name="pk_categories"),
        sa.UniqueConstraint("organisation_id", "path", name="uq_categories_organisation_id_path"),
    )
    op.create_index("ix_categories_organisation_id", "categories", ["organisation_id"])

    op.create_table(
        "inventory_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("brand", sa.String(length=120), nullable=True),
        sa.Column("model", sa.String(length=120), nullable=True),
        sa.Column("unit_cost", sa.Numeric(12, 2), nullable=True),
        sa.Column("price", sa.Numeric(12, 2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("supplier", sa.String(length=40), nullable=True),
        sa.Column("supplier_product_id", sa.String(length=64), nullable=True),
        sa.Column("supplier_sku_id", sa.String(length=64), nullable=True),
        sa.Column("image", sa.String(length=500), nullable=True),
        sa.Column("reorder_point", sa.Integer(), server_default="0", nullable=False),
        sa.Column("on_hand", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reserved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("discontinued", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _org_fk("inventory_items"),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"],
                                name="fk_inventory_items_category_id_categories"),
        sa.PrimaryKeyConstraint("id", name="pk_inventory_items"),
        sa.UniqueConstraint("organisation_id", "sku", name="uq_inventory_items_organisation_id_sku"),
        sa.CheckConstraint("reserved >= 0", name="ck_inventory_items_reserved_not_negative"),
        sa.CheckConstraint("on_hand >= reserved", name="ck_inventory_items_available_not_negative"),
        sa.CheckConstraint("reorder_point >= 0", name="ck_inventory_items_reorder_point_not_negative"),
    )
    op.create_index("ix_inventory_items_organisation_id", "inventory_items", ["organisation_id"])
    op.create_index("ix_inventory_items_gtin", "inventory_items", ["gtin"])
    op.create_index("ix_inventory_items_org_title", "inventory_items", ["organisation_id", "title"])
    op.create_index("ix_inventory_items_org_category", "inventory_items", ["organisation_id", "category_id"])
    op.create_index("ix_inventory_items_org_supplier_ids", "inventory_items",
                    ["organisation_id", "supplier", "supplier_product_id", "supplier_sku_id"])
    op.create_index("ix_inventory_items_org_search", "inventory_items", ["organisation_id", "search_text"])
    op.create_index("ix_inventory_items_org_updated", "inventory_items", ["organisation_id", "updated_at"])
    op.create_index("ix_inventory_items_org_available", "inventory_items",
                    ["organisation_id", sa.text("(on_hand - reserved)")])
    op.create_index("ix_inventory_items_org_shortfall", "inventory_items",
                    ["organisation_id", "discontinued", sa.text("(on_hand - reserved - reorder_point)")])

    op.create_table(
        "stock_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("import", "adjustment", "reservation", "release", "shipment", "return",
                                  name="movementkind", native_enum=False, length=16), nullable=False),
        sa.Column("on_hand_delta", sa.Integer(), nullable=False),
        sa.Column("reserved_delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _org_fk("stock_movements"),
        sa.ForeignKeyConstraint(["item_id"], ["inventory_items.id"],
                                name="fk_stock_movements_item_id_inventory_items"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_stock_movements_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_stock_movements"),
    )
    op.create_index("ix_stock_movements_organisation_id", "stock_movements", ["organisation_id"])
    op.create_index("ix_stock_movements_item_id_id", "stock_movements", ["item_id", "id"])
    op.create_index("ix_stock_movements_reference", "stock_movements", ["reference"])

    op.create_table(
        "category_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _org_fk("category_rules"),
        sa.PrimaryKeyConstraint("id", name="pk_category_rules"),
        sa.UniqueConstraint("organisation_id", "path", name="uq_category_rules_organisation_id_path"),
    )
    op.create_index("ix_category_rules_organisation_id", "category_rules", ["organisation_id"])

    op.create_table(
        "supplier_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("supplier", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("column_mapping", sa.JSON(), nullable=True),
        sa.Column("default_currency", sa.String(length=3), nullable=True),
        sa.Column("status", sa.Enum("previewed", "queued", "running", "completed", "completed_with_errors",
                                    "failed", name="importstatus", native_enum=False, length=24),
                  nullable=False),
        sa.Column("valid_only", sa.Boolean(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("error_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        _org_fk("supplier_imports"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name="fk_supplier_imports_created_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_supplier_imports"),
    )
    op.create_index("ix_supplier_imports_organisation_id", "supplier_imports", ["organisation_id"])

    op.create_table(
        "supplier_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("supplier", sa.String(length=40), nullable=False),
        sa.Column("supplier_line_id", sa.String(length=160), nullable=False),
        sa.Column("supplier_order_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received_quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("order_status", sa.String(length=60), nullable=True),
        sa.Column("order_date", sa.Date(), nullable=True),
        sa.Column("store", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _org_fk("supplier_lines"),
        sa.ForeignKeyConstraint(["item_id"], ["inventory_items.id"],
                                name="fk_supplier_lines_item_id_inventory_items"),
        sa.ForeignKeyConstraint(["import_id"], ["supplier_imports.id"],
                                name="fk_supplier_lines_import_id_supplier_imports"),
        sa.PrimaryKeyConstraint("id", name="pk_supplier_lines"),
        sa.UniqueConstraint("organisation_id", "supplier", "supplier_line_id",
                            name="uq_supplier_lines_organisation_id_supplier_line"),
    )
    op.create_index("ix_supplier_lines_organisation_id", "supplier_lines", ["organisation_id"])
    op.create_index("ix_supplier_lines_item_id", "supplier_lines", ["item_id"])


def downgrade():
    for table in ("supplier_lines", "supplier_imports", "category_rules", "stock_movements",
                  "inventory_items", "categories"):
        op.drop_table(table)
