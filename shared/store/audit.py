"""audit_log: who created, changed or deleted which protection group, recovery plan, target account or token.

`record` is called with the connection of the change itself, so the entry commits or rolls back with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, insert, or_, select

from shared.db.tables import audit_log

T = audit_log
SECRET_COLUMNS = frozenset({"token_hash"})


class Entity(StrEnum):
    PROTECTION_GROUP = "protection-group"
    RECOVERY_PLAN = "recovery-plan"
    TARGET_ACCOUNT = "target-account"
    TOKEN = "token"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


def snapshot(row: Row | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The fields of an entity as JSON (timestamps as ISO 8601), secrets left out."""
    if row is None:
        return None
    fields = row._mapping if isinstance(row, Row) else row
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in fields.items()
        if key not in SECRET_COLUMNS
    }


def record(
    conn: Connection,
    *,
    actor: str,
    action: Action,
    entity: Entity,
    entity_id: str | int,
    before: Row | Mapping[str, Any] | None = None,
    after: Row | Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(T).values(
            actor=actor,
            action=Action(action).value,
            entity=Entity(entity).value,
            entity_id=str(entity_id),
            before=snapshot(before),
            after=snapshot(after),
        )
    )


def page(
    conn: Connection,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Row]:
    """Entries newest first, filtered by any of entity, entity id and actor (a token name matches that
    name's entries whatever the role); `before_id` continues a page."""
    query = select(T).order_by(T.c.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(T.c.entity == entity)
    if entity_id is not None:
        query = query.where(T.c.entity_id == entity_id)
    if actor is not None:  # "alice" finds "alice (operator)"; the full actor finds itself
        query = query.where(or_(T.c.actor == actor, T.c.actor.startswith(f"{actor} (", autoescape=True)))
    if before_id is not None:
        query = query.where(T.c.id < before_id)
    return list(conn.execute(query))
