"""retry: resource run attempts and skip reasons

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:45:00.000000

A retried resource run keeps one row: ``attempt`` counts its attempts and ``attempts`` holds the
earlier ones (attempt, status, error, operationId, startedAt, finishedAt); ``skip_reason`` says why an
operator accepted a failed run (SKIPPED).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("resource_runs", sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
    op.add_column(
        "resource_runs",
        sa.Column(
            "attempts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column("resource_runs", sa.Column("skip_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("resource_runs", "skip_reason")
    op.drop_column("resource_runs", "attempts")
    op.drop_column("resource_runs", "attempt")
