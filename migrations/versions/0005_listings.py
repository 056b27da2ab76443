"""listings: price lists and their entries, product listings

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "price_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("skipped_rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_price_lists_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_price_lists_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_lists")),
    )
    op.create_index(op.f("ix_price_lists_organisation_id"), "price_lists", ["organisation_id"])

    op.create_table(
        "price_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("price_list_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=True),
        sa.Column("sku", sa.String(100), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=True),
        sa.CheckConstraint("kind IN ('msrp', 'competitor')", name=op.f("ck_price_list_entries_kind")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_price_list_entries_price_not_negative")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_price_list_entries_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["price_list_id"], ["price_lists.id"], ondelete="CASCADE",
                                name=op.f("fk_price_list_entries_price_list_id_price_lists")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_list_entries")),
    )
    op.create_index(op.f("ix_price_list_entries_organisation_id"), "price_list_entries", ["organisation_id"])
    op.create_index(op.f("ix_price_list_entries_price_list_id"), "price_list_entries", ["price_list_id"])
    op.create_index("ix_price_list_entries_org_gtin", "price_list_entries", ["organisation_id", "gtin"])
    op.create_index("ix_price_list_entries_org_sku", "price_list_entries", ["organisation_id", "sku"])

    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("image_order", sa.JSON(), nullable=False),
        sa.Column("seo", sa.JSON(), nullable=False),
        sa.Column("pricing", sa.JSON(), nullable=False),
        sa.Column("status", sa.Enum("draft", "ready", name="listingstatus", native_enum=False, length=16,
                                    create_constraint=False), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("price IS NULL OR price >= 0", name=op.f("ck_listings_price_not_negative")),
        sa.CheckConstraint("(price IS NULL) = (currency IS NULL)", name=op.f("ck_listings_price_has_currency")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_listings_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE",
                                name=op.f("fk_listings_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint("product_id", name=op.f("uq_listings_product_id")),
        sa.UniqueConstraint("organisation_id", "slug", name=op.f("uq_listings_organisation_id_slug")),
    )
    op.create_index(op.f("ix_listings_organisation_id"), "listings", ["organisation_id"])


def downgrade():
    op.drop_index(op.f("ix_listings_organisation_id"), table_name="listings")
    op.drop_table("listings")
    op.drop_index("ix_price_list_entries_org_sku", table_name="price_list_entries")
    op.drop_index("ix_price_list_entries_org_gtin", table_name="price_list_entries")
    op.drop_index(op.f("ix_price_list_entries_price_list_id"), table_name="price_list_entries")
    op.drop_index(op.f("ix_price_list_entries_organisation_id"), table_name="price_list_entries")
    op.drop_table("price_list_entries")
    op.drop_index(op.f("ix_price_lists_organisation_id"), table_name="price_lists")
    op.drop_table("price_lists")
