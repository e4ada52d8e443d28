"""protection_groups: named selections of resources in one account + region."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, insert, select

from shared.db.tables import protection_groups
from shared.store.transition import bump_version, remove_at_version

T = protection_groups


def create(conn: Connection, *, created_by: str, **fields: Any) -> Row:
    """fields: name, region, account_id, selection, launch_settings (DRS launch settings or None)."""
    return conn.execute(insert(T).values(created_by=created_by, **fields).returning(*T.c)).one()


def get(conn: Connection, group_id: str, *, lock: bool = False) -> Row | None:
    """One group; ``lock`` takes a row lock (``FOR UPDATE``) until the transaction ends."""
    query = select(T).where(T.c.id == group_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def get_many(conn: Connection, group_ids: list[str], *, share: bool = False) -> dict[str, Row]:
    """Groups by id; ``share`` takes ``FOR SHARE`` locks (in id order), so the groups cannot be
    changed or deleted before the transaction ends."""
    query = select(T).where(T.c.id.in_(group_ids)).order_by(T.c.id)
    if share:
        query = query.with_for_update(read=True)
    return {row.id: row for row in conn.execute(query)}


def name_taken(conn: Connection, name: str, *, other_than: str | None = None) -> bool:
    """Whether another group has this name, compared case-insensitively."""
    query = select(T.c.id).where(func.lower(T.c.name) == name.lower())
    if other_than is not None:
        query = query.where(T.c.id != other_than)
    return conn.execute(query).first() is not None


def list_all(conn: Connection) -> list[Row]:
    return list(conn.execute(select(T).order_by(T.c.created_at, T.c.id)))


def update(conn: Connection, group_id: str, *, expected_version: int, **fields: Any) -> Row | None:
    """Compare-and-set on ``version`` of the fields a group may change (name, account_id, selection,
    launch_settings; never region): the updated row (version + 1), or None when the version is stale."""
    return bump_version(conn, T, T.c.id == group_id, expected_version, fields)


def remove(conn: Connection, group_id: str, *, expected_version: int) -> bool:
    """Delete a group at ``expected_version``; whether a row was deleted."""
    return remove_at_version(conn, T, T.c.id == group_id, expected_version)


def using_account(conn: Connection, account_id: str) -> list[str]:
    """Ids of the groups that select resources in ``account_id``."""
    return list(conn.scalars(select(T.c.id).where(T.c.account_id == account_id).order_by(T.c.id)))
