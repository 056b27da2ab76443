"""techfiles: tech files with versions, version history, collections, collection items, credit costs

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FILE_TYPES = ("base_view", "close_up", "sketch", "category", "complete_pack")
FILE_STATUS = ("processing", "completed", "failed", "archived")
KINDS = ("tech_pack", "base_views", "close_ups", "sketches")
COLLECTION_STATUS = ("queued", "running", "completed", "failed")
SLOT = ["organisation_id", "product_id", "revision", "file_type", "view", "category"]


def _enum(name, values, length=16):
    return sa.Enum(*values, name=name, native_enum=False, length=length, create_constraint=False)


def _fk(table, column, target, ondelete=None):
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{ref_table}"))


def upgrade():
    op.create_table(
        "tech_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.String(40), nullable=False),
        sa.Column("file_type", _enum("filetype", FILE_TYPES, 20), nullable=False),
        sa.Column("view", sa.String(40), server_default="", nullable=False),
        sa.Column("category", sa.String(80), server_default="", nullable=False),
        sa.Column("status", _enum("filestatus", FILE_STATUS), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("mime", sa.String(40), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("source_image_id", sa.Integer(), nullable=True),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("generator", sa.String(60), nullable=False),
        sa.Column("model", sa.String(120), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("batch_id", sa.String(40), nullable=True),
        sa.Column("credits", sa.Numeric(12, 2), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("tech_files", "organisation_id", "organisations.id"),
        _fk("tech_files", "product_id", "products.id", "CASCADE"),
        _fk("tech_files", "source_image_id", "product_images.id", "SET NULL"),
        _fk("tech_files", "parent_id", "tech_files.id", "SET NULL"),
        _fk("tech_files", "created_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tech_files")),
        sa.UniqueConstraint(*SLOT, "version", name="uq_tech_files_slot_version"),
    )
    with op.batch_alter_table("tech_files") as batch:
        batch.create_index(batch.f("ix_tech_files_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_tech_files_batch_id"), ["batch_id"])
        batch.create_index("ix_tech_files_org_product", ["organisation_id", "product_id"])
        batch.create_index("ix_tech_files_org_created", ["organisation_id", "created_at"])
    # Exactly one latest file per slot, whatever the code does.
    op.create_index("uq_tech_files_latest", "tech_files", SLOT, unique=True,
                    sqlite_where=sa.text("is_latest = 1"), postgresql_where=sa.text("is_latest"))

    op.create_table(
        "tech_file_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("tech_file_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("tech_file_versions", "organisation_id", "organisations.id"),
        _fk("tech_file_versions", "product_id", "products.id", "CASCADE"),
        _fk("tech_file_versions", "tech_file_id", "tech_files.id", "CASCADE"),
        _fk("tech_file_versions", "created_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tech_file_versions")),
    )
    with op.batch_alter_table("tech_file_versions") as batch:
        batch.create_index(batch.f("ix_tech_file_versions_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_tech_file_versions_tech_file_id"), ["tech_file_id"])
        batch.create_index("ix_tech_file_versions_org_product", ["organisation_id", "product_id"])

    op.create_table(
        "tech_collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("collectionkind", KINDS, 20), nullable=False),
        sa.Column("revision", sa.String(40), nullable=False),
        sa.Column("status", _enum("collectionstatus", COLLECTION_STATUS), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("current_step", sa.String(200), nullable=True),
        sa.Column("failed_step", sa.String(32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.String(40), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("rq_job_id", sa.String(80), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("tech_collections", "organisation_id", "organisations.id"),
        _fk("tech_collections", "product_id", "products.id", "CASCADE"),
        _fk("tech_collections", "created_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tech_collections")),
    )
    with op.batch_alter_table("tech_collections") as batch:
        batch.create_index(batch.f("ix_tech_collections_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_tech_collections_batch_id"), ["batch_id"])
        batch.create_index("ix_tech_collections_org_product", ["organisation_id", "product_id"])

    op.create_table(
        "tech_collection_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("tech_file_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("unit_key", sa.String(80), nullable=False),
        _fk("tech_collection_items", "organisation_id", "organisations.id"),
        _fk("tech_collection_items", "collection_id", "tech_collections.id", "CASCADE"),
        _fk("tech_collection_items", "tech_file_id", "tech_files.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tech_collection_items")),
        sa.UniqueConstraint("collection_id", "tech_file_id",
                            name=op.f("uq_tech_collection_items_collection_id_tech_file_id")),
    )
    with op.batch_alter_table("tech_collection_items") as batch:
        batch.create_index(batch.f("ix_tech_collection_items_organisation_id"), ["organisation_id"])
        batch.create_index("ix_tech_collection_items_unit", ["collection_id", "unit_key"])

    op.create_table(
        "tech_credit_costs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("file_type", _enum("filetype", FILE_TYPES, 20), nullable=False),
        sa.Column("credits", sa.Numeric(12, 2), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("tech_credit_costs", "organisation_id", "organisations.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tech_credit_costs")),
        sa.UniqueConstraint("organisation_id", "file_type",
                            name=op.f("uq_tech_credit_costs_organisation_id_file_type")),
    )
    with op.batch_alter_table("tech_credit_costs") as batch:
        batch.create_index(batch.f("ix_tech_credit_costs_organisation_id"), ["organisation_id"])


def downgrade():
    op.drop_index("uq_tech_files_latest", table_name="tech_files")
    for table in ("tech_credit_costs", "tech_collection_items", "tech_collections", "tech_file_versions",
                  "tech_files"):
        op.drop_table(table)
