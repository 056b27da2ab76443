"""pipeline: products, product images, phases, pipeline log, provider calls

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PRODUCT_STATUS = ("uploaded", "processing", "needs_review", "completed", "error", "stopped", "archived")
PHASE_STATUS = ("pending", "queued", "running", "completed", "failed", "needs_review", "stopped", "skipped")
CONDITION = ("unknown", "new", "like_new", "used", "damaged")
LEVEL = ("debug", "info", "warning", "error")


def _enum(name, values, length=16):
    return sa.Enum(*values, name=name, native_enum=False, length=length, create_constraint=False)


def upgrade():
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("status", _enum("productstatus", PRODUCT_STATUS), nullable=False),
        sa.Column("hint_name", sa.String(200), nullable=True),
        sa.Column("hint_model", sa.String(120), nullable=True),
        sa.Column("condition", _enum("condition", CONDITION), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("brand", sa.String(120), nullable=True),
        sa.Column("model", sa.String(120), nullable=True),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("gtin", sa.String(14), nullable=True),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("confidence_source", sa.String(40), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("phash", sa.String(32), nullable=True),
        sa.Column("fair_rank", sa.Integer(), server_default="0", nullable=False),
        sa.Column("queue", sa.String(16), server_default="default", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("archive_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_products_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_products_created_by_id_users")),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["users.id"], name=op.f("fk_products_reviewed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products") as batch:
        batch.create_index(batch.f("ix_products_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_products_created_at"), ["created_at"])
        batch.create_index("ix_products_org_status", ["organisation_id", "status"])
        batch.create_index("ix_products_org_gtin", ["organisation_id", "gtin"])

    op.create_table(
        "product_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("thumb_sha256", sa.String(64), nullable=True),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_product_images_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE",
                                name=op.f("fk_product_images_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_images")),
    )
    with op.batch_alter_table("product_images") as batch:
        batch.create_index(batch.f("ix_product_images_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_product_images_product_id"), ["product_id"])

    op.create_table(
        "product_phases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", _enum("phasestatus", PHASE_STATUS), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rq_job_id", sa.String(80), nullable=True),
        sa.Column("queued_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_product_phases_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE",
                                name=op.f("fk_product_phases_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_phases")),
        sa.UniqueConstraint("product_id", "name", name=op.f("uq_product_phases_product_id_name")),
    )
    with op.batch_alter_table("product_phases") as batch:
        batch.create_index(batch.f("ix_product_phases_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_product_phases_product_id"), ["product_id"])
        batch.create_index("ix_product_phases_status_lease", ["status", "lease_until"])

    op.create_table(
        "pipeline_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(32), nullable=True),
        sa.Column("level", _enum("loglevel", LEVEL, 8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_pipeline_log_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE",
                                name=op.f("fk_pipeline_log_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_log")),
    )
    with op.batch_alter_table("pipeline_log") as batch:
        batch.create_index(batch.f("ix_pipeline_log_organisation_id"), ["organisation_id"])
        batch.create_index("ix_pipeline_log_product_id_id", ["product_id", "id"])

    op.create_table(
        "provider_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("phase", sa.String(32), nullable=True),
        sa.Column("provider", sa.String(80), nullable=False),
        sa.Column("model", sa.String(120), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Numeric(14, 6), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_provider_calls_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="SET NULL",
                                name=op.f("fk_provider_calls_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_calls")),
    )
    with op.batch_alter_table("provider_calls") as batch:
        batch.create_index(batch.f("ix_provider_calls_organisation_id"), ["organisation_id"])
        batch.create_index(batch.f("ix_provider_calls_product_id"), ["product_id"])


def downgrade():
    for table in ("provider_calls", "pipeline_log", "product_phases", "product_images", "products"):
        op.drop_table(table)
