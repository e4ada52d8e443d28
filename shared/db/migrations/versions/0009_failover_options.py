"""failover options of an execution (Aurora graceful, then ungraceful), error codes and data loss
approvals of resource runs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:00:00.000000

An execution keeps how a recovery moves an Aurora global database's writer (``failover``: graceful,
ungraceful, auto) and whether it may lose data (``allow_data_loss``); a resource run keeps the code of
a failure the scheduler acts on (``error_code``: DATA_LOSS_APPROVAL_REQUIRED), when the scheduler
paused to ask for that approval (``data_loss_asked_at``) and who approved data loss for its cluster
(``data_loss_approved_by``: its next attempt may fail over).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("executions", sa.Column("failover", sa.Text(), server_default="auto", nullable=False))
    op.add_column("executions", sa.Column("allow_data_loss", sa.Boolean(), server_default="false", nullable=False))
    op.create_check_constraint(
        "ck_executions_failover", "executions", "failover IN ('graceful', 'ungraceful', 'auto')"
    )
    op.add_column("resource_runs", sa.Column("error_code", sa.Text(), nullable=True))
    op.add_column("resource_runs", sa.Column("data_loss_asked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("resource_runs", sa.Column("data_loss_approved_by", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("resource_runs", "data_loss_approved_by")
    op.drop_column("resource_runs", "data_loss_asked_at")
    op.drop_column("resource_runs", "error_code")
    op.drop_constraint("ck_executions_failover", "executions", type_="check")
    op.drop_column("executions", "allow_data_loss")
    op.drop_column("executions", "failover")
