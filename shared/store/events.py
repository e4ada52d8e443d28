"""execution_events: the ordered timeline of an execution (transitions, actors, AWS operation ids)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Insert, insert, select

from shared.db.tables import execution_events


def append(
    conn: Connection,
    execution_id: str,
    kind: str,
    actor: str,
    message: str,
    *,
    wave_number: int | None = None,
    resource_arn: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        execution_events.insert().values(
            execution_id=execution_id,
            kind=kind,
            actor=actor,
            message=message,
            wave_number=wave_number,
            resource_arn=resource_arn,
            detail=detail,
        )
    )


def list_for(conn: Connection, execution_id: str, after_id: int = 0, limit: int = 500) -> list[Any]:
    return list(
        conn.execute(
            select(execution_events)
            .where(execution_events.c.execution_id == execution_id, execution_events.c.id > after_id)
            .order_by(execution_events.c.id)
            .limit(limit)
        )
    )


def append_from(rows: Any, kind: Any, actor: Any, message: Any, detail: Any) -> Insert:
    """An INSERT ... SELECT appending one entry per row of `rows` (a CTE of resource runs), to be run in
    the same statement as the change it records. The other arguments are SQL expressions."""
    return insert(execution_events).from_select(
        ["execution_id", "kind", "actor", "message", "wave_number", "resource_arn", "detail"],
        select(rows.c.execution_id, kind, actor, message, rows.c.wave_number, rows.c.arn, detail),
    )
