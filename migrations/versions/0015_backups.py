"""backup runs: scheduled and requested backups, restore drills and storage sweeps

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "backup_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("backup", "drill", "sweep", name="runkind", native_enum=False, length=16),
                  nullable=False),
        sa.Column("slot", sa.String(length=32), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Enum("queued", "running", "succeeded", "failed", "skipped", name="runstatus",
                                    native_enum=False, length=16), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("backup_name", sa.String(length=80), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_runs")),
        sa.UniqueConstraint("kind", "slot", name="uq_backup_runs_kind_slot"),
    )
    op.create_index("ix_backup_runs_kind_status", "backup_runs", ["kind", "status"])


def downgrade():
    op.drop_index("ix_backup_runs_kind_status", table_name="backup_runs")
    op.drop_table("backup_runs")
