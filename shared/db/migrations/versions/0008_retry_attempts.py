"""retry: resource run attempts and skip reasons

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:45:00.000000

A retried resource run keeps one row: ``attempt`` counts its attempts and ``attempts`` holds the
earlier ones (attempt, status, error, operationId, startedAt, finishedAt); ``skip_reason`` says why an
operator accepted a failed run (SKIPPED). The outbox trigger also copies ``execution.retried`` (the
notification of a retry): NOTIFIABLE_KINDS is a frozen copy of ``shared.domain.notifications.TIMELINE_TYPES``'
keys as of this revision.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NOTIFIABLE_KINDS = (
    "execution.running", "execution.paused", "execution.retried", "execution.completed",
    "execution.completed_with_failures", "execution.failed", "execution.cancelled", "wave.running",
    "wave.succeeded", "wave.completed_with_failures", "wave.failed", "wave.cancelled", "wave.skipped",
    "resource.failed", "resource.timed_out", "approval.granted", "approval.expired", "rto.at_risk",
)  # fmt: skip
BEFORE = tuple(kind for kind in NOTIFIABLE_KINDS if kind != "execution.retried")  # revision 0005's list


def _trigger(kinds: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    op.execute("DROP TRIGGER IF EXISTS execution_events_to_outbox ON execution_events")
    op.execute(
        f"""
        CREATE TRIGGER execution_events_to_outbox AFTER INSERT ON execution_events
        FOR EACH ROW WHEN (NEW.kind IN ({listed}))
        EXECUTE FUNCTION drwave_outbox_from_timeline()
        """
    )


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
    _trigger(NOTIFIABLE_KINDS)


def downgrade() -> None:
    _trigger(BEFORE)
    op.drop_column("resource_runs", "skip_reason")
    op.drop_column("resource_runs", "attempts")
    op.drop_column("resource_runs", "attempt")
