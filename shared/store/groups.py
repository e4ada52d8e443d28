"""protection_groups: named selections of resources in one account + region."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, insert, select

from shared.db.tables import protection_groups

T = protection_groups


def create(
    conn: Connection, *, name: str, region: str, account_id: str | None, selection: dict[str, Any], created_by: str
) -> Row:
    return conn.execute(
        insert(T)
        .values(name=name, region=region, account_id=account_id, selection=selection, created_by=created_by)
        .returning(*T.c)
    ).one()


def get(conn: Connection, group_id: str) -> Row | None:
    return conn.execute(select(T).where(T.c.id == group_id)).first()


def get_many(conn: Connection, group_ids: list[str]) -> dict[str, Row]:
    return {row.id: row for row in conn.execute(select(T).where(T.c.id.in_(group_ids)))}


def name_taken(conn: Connection, name: str) -> bool:
    return conn.execute(select(T.c.id).where(func.lower(T.c.name) == name.lower())).first() is not None


def list_all(conn: Connection) -> list[Row]:
    return list(conn.execute(select(T).order_by(T.c.created_at, T.c.id)))
