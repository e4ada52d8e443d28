"""subscriptions: who is notified of what (webhook, slack, sns, eventbridge)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from shared.db.tables import subscriptions

T = subscriptions


def create(conn: Connection, *, created_by: str, **fields: Any) -> Row:
    """fields: name, kind, target, events, plan_ids, secret."""
    return conn.execute(insert(T).values(created_by=created_by, **fields).returning(*T.c)).one()


def get(conn: Connection, subscription_id: str) -> Row | None:
    return conn.execute(select(T).where(T.c.id == subscription_id)).first()


def list_all(conn: Connection) -> list[Row]:
    return list(conn.execute(select(T).order_by(T.c.created_at, T.c.id)))


def update_fields(conn: Connection, subscription_id: str, **fields: Any) -> Row | None:
    return conn.execute(
        update(T).where(T.c.id == subscription_id).values(updated_at=func.clock_timestamp(), **fields).returning(*T.c)
    ).first()


def remove(conn: Connection, subscription_id: str) -> bool:
    """Delete it with its deliveries (they cascade)."""
    return bool(conn.execute(delete(T).where(T.c.id == subscription_id)).rowcount)
