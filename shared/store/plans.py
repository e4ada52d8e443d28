"""recovery_plans: ordered waves, each naming protection groups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, insert, select

from shared.db.tables import recovery_plans

T = recovery_plans


def create(
    conn: Connection, *, name: str, description: str | None, waves: list[dict[str, Any]], created_by: str
) -> Row:
    return conn.execute(
        insert(T).values(name=name, description=description, waves=waves, created_by=created_by).returning(*T.c)
    ).one()


def get(conn: Connection, plan_id: str) -> Row | None:
    return conn.execute(select(T).where(T.c.id == plan_id)).first()


def name_taken(conn: Connection, name: str) -> bool:
    return conn.execute(select(T.c.id).where(func.lower(T.c.name) == name.lower())).first() is not None


def list_all(conn: Connection) -> list[Row]:
    return list(conn.execute(select(T).order_by(T.c.created_at, T.c.id)))
