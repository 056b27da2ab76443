"""identification: shared reference product data; where each product field came from,
suggestions, review reasons, the text a person kept; phase attempts counted across restarts

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reference_products",
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("brand", sa.String(200), nullable=True),
        sa.Column("brand_key", sa.String(120), nullable=True),
        sa.Column("quantity", sa.String(120), nullable=True),
        sa.Column("categories", sa.Text(), nullable=True),
        sa.Column("image_url", sa.String(500), nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("gtin", name="pk_reference_products"),
    )
    with op.batch_alter_table("reference_products") as batch_op:
        batch_op.create_index("ix_reference_products_brand_key", ["brand_key"], unique=False)

    with op.batch_alter_table("products") as batch_op:
        batch_op.add_column(sa.Column("field_sources", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("suggestions", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("review_reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("kept_text", sa.JSON(), nullable=True))

    with op.batch_alter_table("product_phases") as batch_op:
        batch_op.add_column(sa.Column("attempts_total", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("product_phases") as batch_op:
        batch_op.drop_column("attempts_total")
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_column("kept_text")
        batch_op.drop_column("review_reasons")
        batch_op.drop_column("suggestions")
        batch_op.drop_column("field_sources")
    with op.batch_alter_table("reference_products") as batch_op:
        batch_op.drop_index("ix_reference_products_brand_key")
    op.drop_table("reference_products")
