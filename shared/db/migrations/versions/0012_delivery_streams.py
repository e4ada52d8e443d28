"""notification deliveries are ordered per stream: an execution, a plan (plan-level events) or the event alone

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:00:00.000000

Deliveries went out in order per (subscription, execution), and an event without an execution was a stream
of its own: a plan's ``plan.readiness_changed`` events (no execution) could overtake each other when one
waited for a retry. ``stream`` is the ordering key: ``execution:<id>``, else ``plan:<id>`` for a plan-level
event, else ``event:<id>`` (a subscription's test event stays on its own). Existing rows take theirs from
their execution, else the planId of their envelope, else their event id.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "ix_notification_deliveries_pending_stream"


def _pending_index(stream_column: str) -> None:
    """The pending deliveries of a subscription in stream and outbox order (the notifier's head lookup)."""
    op.create_index(
        INDEX,
        "notification_deliveries",
        ["subscription_id", stream_column, "outbox_id"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def upgrade() -> None:
    op.add_column("notification_deliveries", sa.Column("stream", sa.Text(), nullable=True))
    op.execute(
        """
        UPDATE notification_deliveries d SET stream = CASE
            WHEN d.execution_id IS NOT NULL THEN 'execution:' || d.execution_id
            WHEN o.envelope -> 'data' ->> 'planId' IS NOT NULL THEN 'plan:' || (o.envelope -> 'data' ->> 'planId')
            ELSE 'event:' || d.event_id
        END
        FROM notification_outbox o WHERE o.id = d.outbox_id
        """
    )
    op.alter_column("notification_deliveries", "stream", nullable=False)
    op.drop_index(INDEX, table_name="notification_deliveries")
    _pending_index("stream")


def downgrade() -> None:
    op.drop_index(INDEX, table_name="notification_deliveries")
    _pending_index("execution_id")
    op.drop_column("notification_deliveries", "stream")
