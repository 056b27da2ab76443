"""batches: CSV batches, row jobs, worker heartbeats, logs, saved mappings, prompt templates

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH_STATUSES = ("uploaded", "queued", "processing", "completed", "completed_with_errors", "cancelled", "failed")


def upgrade():
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_suffix", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("format", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("validation", sa.JSON(), nullable=True),
        sa.Column("status", sa.Enum(*BATCH_STATUSES, name="batchstatus", native_enum=False, length=32), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("successful_rows", sa.Integer(), nullable=False),
        sa.Column("failed_rows", sa.Integer(), nullable=False),
        sa.Column("max_concurrent_jobs", sa.Integer(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("rate_rows_per_min", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], name=op.f("fk_batches_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_batches_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    with op.batch_alter_table("batches") as b:
        b.create_index(b.f("ix_batches_organisation_id"), ["organisation_id"])
        b.create_index(b.f("ix_batches_created_by_id"), ["created_by_id"])
        b.create_index(b.f("ix_batches_status"), ["status"])

    op.create_table(
        "batch_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_column", sa.String(length=255), nullable=True),
        sa.Column("error_kind", sa.String(length=16), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'claimed', 'processing', 'completed', 'failed')", name=op.f("ck_batch_rows_status")),
        sa.CheckConstraint("retry_count >= 0 AND retry_count <= 3", name=op.f("ck_batch_rows_retry_count")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], name=op.f("fk_batch_rows_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_batch_rows_batch_id_batches"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_rows")),
        sa.UniqueConstraint("batch_id", "row_number", name="uq_batch_rows_batch_id_row_number"),
    )
    with op.batch_alter_table("batch_rows") as b:
        b.create_index(b.f("ix_batch_rows_organisation_id"), ["organisation_id"])
        b.create_index("ix_batch_rows_claim", ["batch_id", "status", "id"])
        b.create_index("ix_batch_rows_finished", ["batch_id", "finished_at"])

    op.create_table(
        "batch_workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_batch_id", sa.Integer(), nullable=True),
        sa.Column("current_jobs", sa.Integer(), nullable=False),
        sa.Column("processed_count", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_heartbeat", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_workers")),
        sa.UniqueConstraint("instance", name=op.f("uq_batch_workers_instance")),
    )
    with op.batch_alter_table("batch_workers") as b:
        b.create_index(b.f("ix_batch_workers_last_heartbeat"), ["last_heartbeat"])

    op.create_table(
        "batch_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], name=op.f("fk_batch_logs_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_batch_logs_batch_id_batches"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_logs")),
    )
    with op.batch_alter_table("batch_logs") as b:
        b.create_index(b.f("ix_batch_logs_organisation_id"), ["organisation_id"])
        b.create_index("ix_batch_logs_batch_id_id", ["batch_id", "id"])

    op.create_table(
        "batch_saved_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], name=op.f("fk_batch_saved_mappings_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_batch_saved_mappings_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_saved_mappings")),
        sa.UniqueConstraint("organisation_id", "name", name="uq_batch_saved_mappings_org_name"),
    )
    with op.batch_alter_table("batch_saved_mappings") as b:
        b.create_index(b.f("ix_batch_saved_mappings_organisation_id"), ["organisation_id"])

    op.create_table(
        "batch_prompt_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("style", sa.String(length=40), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], name=op.f("fk_batch_prompt_templates_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_batch_prompt_templates_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_prompt_templates")),
        sa.UniqueConstraint("organisation_id", "style", name="uq_batch_prompt_templates_org_style"),
    )
    with op.batch_alter_table("batch_prompt_templates") as b:
        b.create_index(b.f("ix_batch_prompt_templates_organisation_id"), ["organisation_id"])


def downgrade():
    op.drop_table("batch_prompt_templates")
    op.drop_table("batch_saved_mappings")
    op.drop_table("batch_logs")
    op.drop_table("batch_workers")
    op.drop_table("batch_rows")
    op.drop_table("batches")
