"""The Postgres schema as SQLAlchemy Core tables (alembic migrations are generated from these)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Sequence,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ACTIVE_EXECUTION_SQL = "status IN ('PENDING','RUNNING','PAUSED','CANCELLING')"

protection_group_seq = Sequence("protection_group_seq", metadata=metadata)
recovery_plan_seq = Sequence("recovery_plan_seq", metadata=metadata)
execution_seq = Sequence("execution_seq", metadata=metadata)
subscription_seq = Sequence("subscription_seq", metadata=metadata)


def _now() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def _at() -> Column:
    """When a row of a log was written (the transaction's clock would give every row of one change the same)."""
    return Column("at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp())


def _authored() -> list[Column]:
    """Who created an entity, when, and when it last changed."""
    return [
        Column("created_by", Text, nullable=False),
        _now(),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


def _versioned() -> list[Column]:
    """An entity updated by compare-and-set on ``version`` (a stale one: 409 VERSION_CONFLICT)."""
    return [Column("version", Integer, nullable=False, server_default="1"), *_authored()]


def _of_execution() -> list[Column]:
    """The key of a row that belongs to one execution (and goes with it)."""
    return [
        Column("id", BigInteger, primary_key=True),
        Column("execution_id", Text, ForeignKey("executions.id", ondelete="CASCADE"), nullable=False),
    ]


def _ran() -> list[Column]:
    return [Column("started_at", DateTime(timezone=True)), Column("finished_at", DateTime(timezone=True))]


api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),
    _now(),
    Column("revoked_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)),  # null: never expires
    Column("last_used_at", DateTime(timezone=True)),  # refreshed at most once a minute
)

protection_groups = Table(
    "protection_groups",
    metadata,
    Column("id", Text, primary_key=True, server_default=text("'pg-' || nextval('protection_group_seq')")),
    Column("name", Text, nullable=False),
    Column("region", Text, nullable=False),
    Column("account_id", Text),
    Column("selection", JSONB, nullable=False),
    Column("launch_settings", JSONB),  # DRS launch settings applied to the group's source servers
    *_versioned(),
)
Index("uq_protection_groups_lower_name", func.lower(protection_groups.c.name), unique=True)

recovery_plans = Table(
    "recovery_plans",
    metadata,
    Column("id", Text, primary_key=True, server_default=text("'plan-' || nextval('recovery_plan_seq')")),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("waves", JSONB, nullable=False),  # [] for an auto-waved plan
    Column("auto_waves", JSONB),  # {"accountId", "region", "tags", ...}: waves derived from tags at start
    *_versioned(),
    Column("deleted_at", DateTime(timezone=True)),  # soft delete: executions keep referring to the plan
    Column("approvals", JSONB),  # the approval policy of its gates (shared.domain.approvals.ApprovalPolicy)
)
Index(
    "uq_recovery_plans_lower_name",
    func.lower(recovery_plans.c.name),
    unique=True,
    postgresql_where=text("deleted_at IS NULL"),
)

executions = Table(
    "executions",
    metadata,
    Column("id", Text, primary_key=True, server_default=text("'ex-' || nextval('execution_seq')")),
    Column("plan_id", Text, ForeignKey("recovery_plans.id"), nullable=False),
    Column("plan_name", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("phase", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="PENDING"),
    Column("status_reason", Text),
    Column("current_wave", Integer),
    Column("paused_before_wave", Integer),
    Column("pause_requested", Boolean, nullable=False, server_default="false"),
    Column("source_execution_id", Text),
    Column("reason", Text),
    Column("created_by", Text, nullable=False),
    _now(),
    *_ran(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # how a recovery moves an Aurora global database's writer (shared.domain.failover); a drill: graceful
    Column("failover", Text, nullable=False, server_default="auto"),
    Column("allow_data_loss", Boolean, nullable=False, server_default="false"),
    CheckConstraint("failover IN ('graceful', 'ungraceful', 'auto')", name="ck_executions_failover"),
)
Index("ix_executions_status_updated_at", executions.c.status, executions.c.updated_at)
Index("ix_executions_created_at_id", executions.c.created_at, executions.c.id)
Index(
    "uq_executions_active_plan",
    executions.c.plan_id,
    unique=True,
    postgresql_where=text(ACTIVE_EXECUTION_SQL),
)

wave_runs = Table(
    "wave_runs",
    metadata,
    *_of_execution(),
    Column("number", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="PENDING"),
    Column("status_reason", Text),
    Column("pause_before", Boolean, nullable=False, server_default="false"),
    Column("gate_passed", Boolean, nullable=False, server_default="false"),
    Column("on_failure", Text, nullable=False, server_default="continue"),
    Column("timeout_seconds", Integer, nullable=False),
    *_ran(),
    Column("rto_target_minutes", Integer),  # the strictest RTO target of its resources (dr:priority)
    Column("rto_at_risk_at", DateTime(timezone=True)),  # when the reconciler saw it run past its RTO target
    Column("stage", Integer),  # the stage of runs dispatched (pre-actions < 0 < post-actions; migration 0010)
    Column("passed_stage", Integer),  # the stage after which a resume let the wave go on (a pause between stages)
    UniqueConstraint("execution_id", "number"),
)

resource_runs = Table(
    "resource_runs",
    metadata,
    *_of_execution(),
    Column("wave_number", Integer, nullable=False),
    Column("arn", Text, nullable=False),
    Column("adapter", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="PENDING"),
    Column("operation_id", Text),
    Column("start_attempts", Integer, nullable=False, server_default="0"),
    Column("detail", JSONB),
    Column("error", Text),
    Column("error_code", Text),  # a failure the scheduler acts on (shared.domain.failover.DATA_LOSS_APPROVAL_REQUIRED)
    Column("data_loss_asked_at", DateTime(timezone=True)),  # when the scheduler paused for that approval
    Column("data_loss_approved_by", Text),  # who approved data loss for this cluster: its next attempt fails over
    *_ran(),
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("attempt", Integer, nullable=False, server_default="1"),  # retry (issue 12): 1, 2, ...
    Column("attempts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),  # the earlier attempts
    Column("skip_reason", Text),  # why an operator accepted a failed run (SKIPPED)
    Column("stage", Integer, nullable=False, server_default="0"),  # pre-actions < 0 (resources) < post-actions
    Column("action", JSONB(none_as_null=True)),  # an action run's spec (shared/domain/actions.py); NULL for a resource
    UniqueConstraint("execution_id", "arn"),
)
Index(
    "ix_resource_runs_execution_wave_status",
    resource_runs.c.execution_id,
    resource_runs.c.wave_number,
    resource_runs.c.status,
)

execution_events = Table(
    "execution_events",
    metadata,
    *_of_execution(),
    _at(),
    Column("kind", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("wave_number", Integer),
    Column("resource_arn", Text),
    Column("message", Text, nullable=False),
    Column("detail", JSONB),
)
Index("ix_execution_events_execution_id_id", execution_events.c.execution_id, execution_events.c.id)

target_accounts = Table(
    "target_accounts",
    metadata,
    Column("account_id", Text, primary_key=True),
    Column("name", Text),
    Column("role_arn", Text, nullable=False),
    Column("external_id", Text),
    Column("regions", JSONB, nullable=False),
    *_versioned(),
)

# "A resource is in at most one active execution" (docs/architecture.md, "Invariants"): the start
# transaction inserts one row per resource (the primary key settles races), the execution's terminal
# transition deletes them.
resource_locks = Table(
    "resource_locks",
    metadata,
    Column("arn", Text, primary_key=True),
    Column("execution_id", Text, ForeignKey("executions.id", ondelete="CASCADE"), nullable=False),
    Column("locked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_resource_locks_execution_id", resource_locks.c.execution_id)

# Launch batches (docs/architecture.md, "Launch batches"): when a wave starts, its resources of a batching
# adapter (DRS: ≤ 100 source servers per job) are split into batches; the first member task to claim a
# batch starts the AWS operation for all of it and stores its id here, the others find it. `view` is the
# last status look-up of the operation, shared by every member for about one poll interval (`viewed_at`).
launch_batches = Table(
    "launch_batches",
    metadata,
    *_of_execution(),
    Column("wave_number", Integer, nullable=False),
    Column("adapter", Text, nullable=False),
    Column("account_id", Text),
    Column("region", Text),
    Column("status", Text, nullable=False, server_default="PENDING"),
    Column("start_attempts", Integer, nullable=False, server_default="0"),
    Column("claimed_at", DateTime(timezone=True)),
    Column("operation_id", Text),
    Column("detail", JSONB),
    Column("outcomes", JSONB),  # {"<resource run id>": {"outcome", "error", "detail"}} decided at start
    Column("error", Text),
    Column("view", JSONB),
    Column("viewed_at", DateTime(timezone=True)),
    _now(),
    Column("started_at", DateTime(timezone=True)),
)
Index("ix_launch_batches_execution_id_wave_number", launch_batches.c.execution_id, launch_batches.c.wave_number)

launch_batch_members = Table(
    "launch_batch_members",
    metadata,
    Column("resource_run_id", BigInteger, ForeignKey("resource_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("batch_id", BigInteger, ForeignKey("launch_batches.id", ondelete="CASCADE"), nullable=False),
)
Index("ix_launch_batch_members_batch_id", launch_batch_members.c.batch_id)

# Who changed what: one row per create/update/delete of a protection group, recovery plan, target account
# or token, written in the same transaction as the change. `before` / `after` are the entity's fields
# (null before a create, after a delete).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True),
    _at(),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),  # create / update / delete
    Column("entity", Text, nullable=False),  # protection-group / recovery-plan / target-account / token
    Column("entity_id", Text, nullable=False),
    Column("before", JSONB),
    Column("after", JSONB),
)
Index("ix_audit_log_entity_entity_id_id", audit_log.c.entity, audit_log.c.entity_id, audit_log.c.id)
Index("ix_audit_log_actor_id", audit_log.c.actor, audit_log.c.id)
# Continuous readiness: the last evaluation of each plan's preflight checks (one row per plan, replaced by
# each evaluation) and every change of its status, oldest first.
plan_readiness = Table(
    "plan_readiness",
    metadata,
    Column("plan_id", Text, ForeignKey("recovery_plans.id", ondelete="CASCADE"), primary_key=True),
    Column("status", Text, nullable=False),
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
    Column("checks", JSONB, nullable=False),
    Column("rto_forecast", JSONB),
)

readiness_changes = Table(
    "readiness_changes",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("plan_id", Text, ForeignKey("recovery_plans.id", ondelete="CASCADE"), nullable=False),
    _at(),
    Column("from_status", Text, nullable=False),
    Column("to_status", Text, nullable=False),
    Column("message", Text, nullable=False),
)
Index("ix_readiness_changes_plan_id_id", readiness_changes.c.plan_id, readiness_changes.c.id)

# --- the on-call loop: notifications, approvals -------------------------------------------------

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Text, primary_key=True, server_default=text("'sub-' || nextval('subscription_seq')")),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),  # webhook | slack | sns | eventbridge
    Column("target", Text, nullable=False),  # URL, topic ARN or bus name
    Column("events", JSONB, nullable=False),  # event types, or ["*"]
    Column("plan_ids", JSONB),  # only these plans' executions (null: every plan)
    Column("secret", Text),  # webhook signing secret (whsec_...), shown once at create
    *_authored(),
)

# The transactional outbox: a trigger on execution_events writes one row per notifiable timeline entry in
# the transaction of the change itself (migration 0005); the notifier builds the envelope (`envelope`),
# fans it out to matching subscriptions (`fanned_out_at`) and delivers.
notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("event_id", Text, nullable=False, unique=True),  # the envelope's id: webhook-id on every retry
    Column("timeline_event_id", BigInteger, ForeignKey("execution_events.id", ondelete="CASCADE")),
    Column("execution_id", Text, ForeignKey("executions.id", ondelete="CASCADE")),
    Column("kind", Text, nullable=False),  # the timeline kind (or "test")
    _at(),
    Column("envelope", JSONB),
    Column("fanned_out_at", DateTime(timezone=True)),
)
Index("ix_notification_outbox_unfanned", notification_outbox.c.id, postgresql_where=text("fanned_out_at IS NULL"))

notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("subscription_id", Text, ForeignKey("subscriptions.id", ondelete="CASCADE"), nullable=False),
    Column("outbox_id", BigInteger, ForeignKey("notification_outbox.id", ondelete="CASCADE"), nullable=False),
    Column("execution_id", Text),
    Column("event_id", Text, nullable=False),
    # the ordering key (deliveries.stream_of): "execution:<id>" | "plan:<id>" (a plan-level event) |
    # "event:<id>" (on its own); one stream's deliveries to one subscription go out in outbox order
    Column("stream", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    Column("lease_until", DateTime(timezone=True)),  # a deliver task is queued or running until then
    Column("last_error", Text),
    Column("last_status_code", Integer),
    _now(),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("subscription_id", "outbox_id"),
)
Index(
    "ix_notification_deliveries_pending_stream",
    notification_deliveries.c.subscription_id,
    notification_deliveries.c.stream,
    notification_deliveries.c.outbox_id,
    postgresql_where=text("status = 'pending'"),
)
Index(
    "ix_notification_deliveries_subscription_id_id",
    notification_deliveries.c.subscription_id,
    notification_deliveries.c.id,
)

approval_requests = Table(
    "approval_requests",
    metadata,
    *_of_execution(),
    Column("wave_number", Integer, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),  # pending | granted | expired | superseded
    Column("required", Integer, nullable=False),
    Column("reason", Text),
    Column("policy", JSONB, nullable=False),  # the plan's policy when the gate opened
    Column("opened_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    Column("expires_at", DateTime(timezone=True)),
    Column("decided_at", DateTime(timezone=True)),
)
Index(
    "uq_approval_requests_pending_gate",
    approval_requests.c.execution_id,
    approval_requests.c.wave_number,
    unique=True,
    postgresql_where=text("status = 'pending'"),
)
Index("ix_approval_requests_execution_id", approval_requests.c.execution_id)

approval_grants = Table(
    "approval_grants",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("request_id", BigInteger, ForeignKey("approval_requests.id", ondelete="CASCADE"), nullable=False),
    Column("approver", Text, nullable=False),  # the token's name (distinctApprovers compares these)
    Column("role", Text, nullable=False),
    Column("comment", Text),
    _at(),
)
Index("ix_approval_grants_request_id", approval_grants.c.request_id)
