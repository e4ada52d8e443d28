"""pre- and post-wave actions: resource runs in stages, the stage a wave has dispatched

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03 07:30:00.000000

A wave's pre-actions, its resources and its post-actions are resource runs of one wave in stages
(``stage``: negative for pre-actions in order, 0 for the resources, positive for post-actions); an
action run keeps its spec in ``action``. ``wave_runs.stage`` is the stage the scheduler dispatched
(the compare-and-set that dispatches each stage once); ``passed_stage`` the stage after which a human
resumed a wave that paused between its stages.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("resource_runs", sa.Column("stage", sa.Integer(), server_default="0", nullable=False))
    op.add_column("resource_runs", sa.Column("action", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("wave_runs", sa.Column("stage", sa.Integer(), nullable=True))
    op.add_column("wave_runs", sa.Column("passed_stage", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("wave_runs", "passed_stage")
    op.drop_column("wave_runs", "stage")
    op.drop_column("resource_runs", "action")
    op.drop_column("resource_runs", "stage")
