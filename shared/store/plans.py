"""recovery_plans: ordered waves naming protection groups, or an auto-wave tag selection.

Deleting a plan is a soft delete (``deleted_at``): executions keep referring to it, and every read
here skips deleted plans, so a deleted plan's name can be used again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, insert, select
from sqlalchemy import update as sql_update

from shared.db.tables import executions, recovery_plans
from shared.domain.states import EXECUTION_ACTIVE
from shared.store.transition import bump_version

T = recovery_plans
LIVE = T.c.deleted_at.is_(None)


def create(conn: Connection, *, created_by: str, **fields: Any) -> Row:
    """fields: name, description, waves ([] for an auto-waved plan), auto_waves, approvals."""
    return conn.execute(insert(T).values(created_by=created_by, **fields).returning(*T.c)).one()


def get(conn: Connection, plan_id: str, *, share: bool = False) -> Row | None:
    """One live plan; ``share`` locks it (``FOR SHARE``) against updates until the transaction ends."""
    query = select(T).where(T.c.id == plan_id, LIVE)
    return conn.execute(query.with_for_update(read=True) if share else query).first()


def name_taken(conn: Connection, name: str, *, other_than: str | None = None) -> bool:
    """Whether another live plan has this name, compared case-insensitively."""
    query = select(T.c.id).where(func.lower(T.c.name) == name.lower(), LIVE)
    if other_than is not None:
        query = query.where(T.c.id != other_than)
    return conn.execute(query).first() is not None


def list_all(conn: Connection) -> list[Row]:
    return list(conn.execute(select(T).where(LIVE).order_by(T.c.created_at, T.c.id)))


def update(conn: Connection, plan_id: str, *, expected_version: int, **fields: Any) -> Row | None:
    """Compare-and-set on ``version`` of the fields of :func:`create`: the updated row (version + 1), or None
    when stale or deleted."""
    return bump_version(conn, T, (T.c.id == plan_id) & LIVE, expected_version, fields)


def soft_delete(conn: Connection, plan_id: str, *, expected_version: int) -> Row | None:
    """Mark a live plan deleted at ``expected_version``; the row, or None when stale or already deleted."""
    return conn.execute(
        sql_update(T)
        .where(T.c.id == plan_id, T.c.version == expected_version, LIVE)
        .values(deleted_at=func.clock_timestamp(), updated_at=func.clock_timestamp())
        .returning(*T.c)
    ).first()


def using_group(conn: Connection, group_id: str) -> list[str]:
    """Ids of the live plans whose waves name ``group_id``."""
    contains = T.c.waves.contains([{"protectionGroupIds": [group_id]}])
    return list(conn.scalars(select(T.c.id).where(contains, LIVE).order_by(T.c.id)))


def using_account(conn: Connection, account_id: str) -> list[str]:
    """Ids of the live auto-waved plans that select resources in ``account_id``."""
    contains = T.c.auto_waves.contains({"accountId": account_id})
    return list(conn.scalars(select(T.c.id).where(contains, LIVE).order_by(T.c.id)))


def active_execution_using_group(conn: Connection, group_id: str) -> tuple[str, str] | None:
    """``(execution id, plan id)`` of an active execution whose plan names ``group_id``, if any."""
    contains = T.c.waves.contains([{"protectionGroupIds": [group_id]}])
    row = conn.execute(
        select(executions.c.id, executions.c.plan_id)
        .select_from(executions.join(T, T.c.id == executions.c.plan_id))
        .where(contains, executions.c.status.in_([s.value for s in EXECUTION_ACTIVE]))
        .order_by(executions.c.id)
        .limit(1)
    ).first()
    return (row.id, row.plan_id) if row is not None else None
