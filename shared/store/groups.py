"""protection_groups: named selections of resources in one account + region."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select

from shared.db.tables import protection_groups
from shared.store.transition import bump_version

T = protection_groups


def create(
    conn: Connection,
    *,
    name: str,
    region: str,
    account_id: str | None,
    selection: dict[str, Any],
    created_by: str,
    launch_settings: dict[str, Any] | None = None,
) -> Row:
    return conn.execute(
        insert(T)
        .values(
            name=name,
            region=region,
            account_id=account_id,
            selection=selection,
            created_by=created_by,
            launch_settings=launch_settings,
        )
        .returning(*T.c)
    ).one()


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


def update(
    conn: Connection,
    group_id: str,
    *,
    expected_version: int,
    name: str,
    account_id: str | None,
    selection: dict[str, Any],
    launch_settings: dict[str, Any] | None = None,
) -> Row | None:
    """Compare-and-set on ``version``: the updated row (version + 1), or None when the version is stale."""
    values = {"name": name, "account_id": account_id, "selection": selection, "launch_settings": launch_settings}
    return bump_version(conn, T, T.c.id == group_id, expected_version, values)


def remove(conn: Connection, group_id: str, *, expected_version: int | None = None) -> bool:
    """Delete a group (only at ``expected_version`` when given); whether a row was deleted."""
    query = delete(T).where(T.c.id == group_id)
    if expected_version is not None:
        query = query.where(T.c.version == expected_version)
    return conn.execute(query).rowcount == 1


def using_account(conn: Connection, account_id: str) -> list[str]:
    """Ids of the groups that select resources in ``account_id``."""
    return list(conn.scalars(select(T.c.id).where(T.c.account_id == account_id).order_by(T.c.id)))
