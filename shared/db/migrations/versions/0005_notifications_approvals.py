"""notifications (outbox, subscriptions, deliveries), approvals, wave RTO targets

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:50:00.000000

The transactional outbox is fed by a trigger on ``execution_events``: every notifiable timeline entry gets
an outbox row in the transaction that wrote it, whoever wrote it (API, scheduler, worker hot path).
NOTIFIABLE_KINDS is a frozen copy of ``shared.domain.notifications.TIMELINE_TYPES``' keys.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NOTIFIABLE_KINDS = (
    "execution.running", "execution.paused", "execution.completed", "execution.completed_with_failures",
    "execution.failed", "execution.cancelled", "wave.running", "wave.succeeded", "wave.completed_with_failures",
    "wave.failed", "wave.cancelled", "wave.skipped", "resource.failed", "resource.timed_out",
    "approval.granted", "approval.expired", "rto.at_risk",
)
JSONB = postgresql.JSONB(astext_type=sa.Text())


def _now(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.add_column("recovery_plans", sa.Column("approvals", JSONB, nullable=True))
    op.add_column("wave_runs", sa.Column("rto_target_minutes", sa.Integer(), nullable=True))
    op.add_column("wave_runs", sa.Column("rto_at_risk_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.schema.CreateSequence(sa.Sequence("subscription_seq")))
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Text(), server_default=sa.text("'sub-' || nextval('subscription_seq')"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("events", JSONB, nullable=False),
        sa.Column("plan_ids", JSONB, nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        _now(),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("timeline_event_id", sa.BigInteger(), nullable=True),
        sa.Column("execution_id", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("envelope", JSONB, nullable=True),
        sa.Column("fanned_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["timeline_event_id"], ["execution_events.id"], name=op.f("fk_notification_outbox_timeline_event_id_execution_events"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["execution_id"], ["executions.id"], name=op.f("fk_notification_outbox_execution_id_executions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_notification_outbox_event_id")),
    )
    op.create_index("ix_notification_outbox_unfanned", "notification_outbox", ["id"], postgresql_where=sa.text("fanned_out_at IS NULL"))
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("subscription_id", sa.Text(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=True),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        _now(),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"], name=op.f("fk_notification_deliveries_subscription_id_subscriptions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outbox_id"], ["notification_outbox.id"], name=op.f("fk_notification_deliveries_outbox_id_notification_outbox"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint("subscription_id", "outbox_id", name=op.f("uq_notification_deliveries_subscription_id_outbox_id")),
    )
    op.create_index(
        "ix_notification_deliveries_pending_stream",
        "notification_deliveries",
        ["subscription_id", "execution_id", "outbox_id"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_notification_deliveries_subscription_id_id", "notification_deliveries", ["subscription_id", "id"])
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("wave_number", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("policy", JSONB, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["execution_id"], ["executions.id"], name=op.f("fk_approval_requests_execution_id_executions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
    )
    op.create_index("uq_approval_requests_pending_gate", "approval_requests", ["execution_id", "wave_number"], unique=True, postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_approval_requests_execution_id", "approval_requests", ["execution_id"])
    op.create_table(
        "approval_grants",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("approver", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["approval_requests.id"], name=op.f("fk_approval_grants_request_id_approval_requests"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_grants")),
    )
    op.create_index("ix_approval_grants_request_id", "approval_grants", ["request_id"])
    kinds = ", ".join(f"'{kind}'" for kind in NOTIFIABLE_KINDS)
    op.execute(
        """
        CREATE FUNCTION drwave_outbox_from_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO notification_outbox (event_id, timeline_event_id, execution_id, kind, at)
            VALUES ('evt_' || replace(gen_random_uuid()::text, '-', ''), NEW.id, NEW.execution_id, NEW.kind, NEW.at);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER execution_events_to_outbox AFTER INSERT ON execution_events
        FOR EACH ROW WHEN (NEW.kind IN ({kinds}))
        EXECUTE FUNCTION drwave_outbox_from_timeline()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS execution_events_to_outbox ON execution_events")
    op.execute("DROP FUNCTION IF EXISTS drwave_outbox_from_timeline()")
    op.drop_table("approval_grants")
    op.drop_table("approval_requests")
    op.drop_table("notification_deliveries")
    op.drop_table("notification_outbox")
    op.drop_table("subscriptions")
    op.execute(sa.schema.DropSequence(sa.Sequence("subscription_seq")))
    op.drop_column("wave_runs", "rto_at_risk_at")
    op.drop_column("wave_runs", "rto_target_minutes")
    op.drop_column("recovery_plans", "approvals")
