"""tech packs: file fingerprints, generation times and shot names; named collections with sections;
reused collection items; scale references; share links and their opens

Revision ID: 0014
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def _fk(table, column, target, ondelete=None):
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{ref_table}"))


def upgrade():
    with op.batch_alter_table("tech_files") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))
        batch.add_column(sa.Column("duration_ms", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("label", sa.String(80), nullable=True))
    with op.batch_alter_table("tech_collections") as batch:
        batch.add_column(sa.Column("name", sa.String(120), nullable=True))
        batch.add_column(sa.Column("sections", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("force", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    with op.batch_alter_table("tech_collection_items") as batch:
        batch.add_column(sa.Column("reused", sa.Boolean(), server_default=sa.text("false"), nullable=False))

    op.create_table(
        "tech_scale_references",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("source_image_id", sa.Integer(), nullable=False),
        sa.Column("x1", sa.Float(), nullable=False),
        sa.Column("y1", sa.Float(), nullable=False),
        sa.Column("x2", sa.Float(), nullable=False),
        sa.Column("y2", sa.Float(), nullable=False),
        sa.Column("length", sa.Numeric(10, 2), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("tech_scale_references", "organisation_id", "organisations.id"),
        _fk("tech_scale_references", "product_id", "products.id", "CASCADE"),
        _fk("tech_scale_references", "source_image_id", "product_images.id", "CASCADE"),
        _fk("tech_scale_references", "created_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tech_scale_references")),
        sa.UniqueConstraint("organisation_id", "source_image_id",
                            name=op.f("uq_tech_scale_references_organisation_id_source_image_id")),
    )
    with op.batch_alter_table("tech_scale_references") as batch:
        batch.create_index(batch.f("ix_tech_scale_references_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_tech_scale_references_product_id"), ["product_id"])

    op.create_table(
        "tech_share_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.String(40), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("tech_share_links", "organisation_id", "organisations.id"),
        _fk("tech_share_links", "product_id", "products.id", "CASCADE"),
        _fk("tech_share_links", "collection_id", "tech_collections.id", "CASCADE"),
        _fk("tech_share_links", "revoked_by_id", "users.id"),
        _fk("tech_share_links", "created_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tech_share_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tech_share_links_token_hash")),
    )
    with op.batch_alter_table("tech_share_links") as batch:
        batch.create_index(batch.f("ix_tech_share_links_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_tech_share_links_product_id"), ["product_id"])

    op.create_table(
        "tech_share_opens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("what", sa.String(20), nullable=False),
        sa.Column("user_agent", sa.String(200), nullable=True),
        _fk("tech_share_opens", "organisation_id", "organisations.id"),
        _fk("tech_share_opens", "link_id", "tech_share_links.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tech_share_opens")),
    )
    with op.batch_alter_table("tech_share_opens") as batch:
        batch.create_index(batch.f("ix_tech_share_opens_organisation_id"), ["organisation_id"])
        batch.create_index("ix_tech_share_opens_link_id", ["link_id", "id"])


def downgrade():
    op.drop_table("tech_share_opens")
    op.drop_table("tech_share_links")
    op.drop_table("tech_scale_references")
    with op.batch_alter_table("tech_collection_items") as batch:
        batch.drop_column("reused")
    with op.batch_alter_table("tech_collections") as batch:
        batch.drop_column("force")
        batch.drop_column("sections")
        batch.drop_column("name")
    with op.batch_alter_table("tech_files") as batch:
        batch.drop_column("label")
        batch.drop_column("duration_ms")
        batch.drop_column("fingerprint")
