"""a resource run that is no action has a SQL NULL ``action``, not the JSON ``null``

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 16:00:00.000000

Runs written before this revision stored Python's None as the JSON value ``null``, so ``action IS NULL``
(what tells a resource from an action in SQL) was false for every resource: the reconciler's deadline of
a resource whose worker went silent was NULL, and it never timed one out. The column now maps None to
SQL NULL (``JSONB(none_as_null=True)``); this turns the stored JSON nulls into SQL NULLs.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE resource_runs SET action = NULL WHERE action = 'null'::jsonb")


def downgrade() -> None:
    """Nothing to undo: SQL NULL is what a resource's action always meant."""
