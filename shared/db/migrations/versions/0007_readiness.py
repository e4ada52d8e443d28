"""readiness: launch settings of protection groups, plan readiness and its changes

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 17:05:00.000000

A protection group keeps the DRS launch settings applied to its source servers; each plan keeps its
last readiness evaluation (status, checks, RTO forecast) and a row per change of its status.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "protection_groups",
        sa.Column("launch_settings", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.create_table(
        "plan_readiness",
        sa.Column("plan_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checks", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rto_forecast", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["recovery_plans.id"], name=op.f("fk_plan_readiness_plan_id_recovery_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plan_readiness")),
    )
    op.create_table(
        "readiness_changes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=False),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["recovery_plans.id"], name=op.f("fk_readiness_changes_plan_id_recovery_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_changes")),
    )
    op.create_index("ix_readiness_changes_plan_id_id", "readiness_changes", ["plan_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_readiness_changes_plan_id_id", table_name="readiness_changes")
    op.drop_table("readiness_changes")
    op.drop_table("plan_readiness")
    op.drop_column("protection_groups", "launch_settings")
