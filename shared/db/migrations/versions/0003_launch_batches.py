"""launch batches

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:05:00.000000

Launch batches (docs/architecture.md, "Launch batches"): a wave's resources of a batching adapter (DRS) are split into batches when
the wave starts; the first member task to claim a batch starts the AWS operation for the whole batch.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "launch_batches",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("wave_number", sa.Integer(), nullable=False),
        sa.Column("adapter", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="PENDING", nullable=False),
        sa.Column("start_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("operation_id", sa.Text(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("outcomes", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("view", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_launch_batches_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_launch_batches")),
    )
    op.create_index(
        "ix_launch_batches_execution_id_wave_number", "launch_batches", ["execution_id", "wave_number"], unique=False
    )
    op.create_table(
        "launch_batch_members",
        sa.Column("resource_run_id", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["launch_batches.id"],
            name=op.f("fk_launch_batch_members_batch_id_launch_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_run_id"],
            ["resource_runs.id"],
            name=op.f("fk_launch_batch_members_resource_run_id_resource_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_run_id", name=op.f("pk_launch_batch_members")),
    )
    op.create_index("ix_launch_batch_members_batch_id", "launch_batch_members", ["batch_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_launch_batch_members_batch_id", table_name="launch_batch_members")
    op.drop_table("launch_batch_members")
    op.drop_index("ix_launch_batches_execution_id_wave_number", table_name="launch_batches")
    op.drop_table("launch_batches")
