"""resource_locks: which active execution holds a resource (at most one: docs/architecture.md, "Invariants").

The start transaction of an execution locks its resources with :func:`acquire` (the primary key on
``arn`` settles concurrent starts); the execution's terminal transition releases them with
:func:`release` in the same transaction (``shared.store.executions.move``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Text, cast, delete, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.db.tables import executions, resource_locks

L = resource_locks


def acquire(conn: Connection, execution_id: str, arns: Iterable[str]) -> dict[str, str]:
    """Lock ``arns`` for ``execution_id``; returns ``{arn: holder}`` of those another execution holds.

    ARNs are locked in sorted order, so two starts with overlapping resources wait on each other
    instead of deadlocking. When something is returned the caller must roll back (nothing is undone here).
    """
    wanted = sorted(set(arns))
    if not wanted:
        return {}
    source = select(
        func.unnest(cast(wanted, ARRAY(Text))).label("arn"), literal(execution_id, Text).label("execution_id")
    )
    locked = set(
        conn.scalars(
            pg_insert(L)
            .from_select(["arn", "execution_id"], source)
            .on_conflict_do_nothing(index_elements=["arn"])
            .returning(L.c.arn)
        )
    )
    taken = [arn for arn in wanted if arn not in locked]
    if not taken:
        return {}
    return dict(conn.execute(select(L.c.arn, L.c.execution_id).where(L.c.arn.in_(taken))).tuples().all())


def release(conn: Connection, execution_id: str) -> int:
    """Free every resource of ``execution_id``; returns how many."""
    return conn.execute(delete(L).where(L.c.execution_id == execution_id)).rowcount


def holders(conn: Connection, arns: Iterable[str]) -> dict[str, tuple[str, str]]:
    """``{arn: (execution id, plan id)}`` for those of ``arns`` an active execution holds."""
    wanted = sorted(set(arns))
    if not wanted:
        return {}
    rows = conn.execute(
        select(L.c.arn, L.c.execution_id, executions.c.plan_id)
        .select_from(L.join(executions, executions.c.id == L.c.execution_id))
        .where(L.c.arn.in_(wanted))
    )
    return {row.arn: (row.execution_id, row.plan_id) for row in rows}
