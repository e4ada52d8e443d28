"""plan_readiness and readiness_changes: each plan's last readiness evaluation and its status changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.db.tables import plan_readiness, readiness_changes

T = plan_readiness
C = readiness_changes


def get(conn: Connection, plan_id: str) -> Row | None:
    return conn.execute(select(T).where(T.c.plan_id == plan_id)).first()


def list_all(conn: Connection) -> dict[str, Row]:
    return {row.plan_id: row for row in conn.execute(select(T))}


def record(
    conn: Connection,
    plan_id: str,
    *,
    status: str,
    evaluated_at: datetime,
    checks: list[dict[str, Any]],
    rto_forecast: dict[str, Any] | None,
) -> str | None:
    """Store an evaluation (replacing the last one); the status before it when it changed, else None.

    The previous status is read under a row lock so two evaluators record one change, not two."""
    previous = conn.execute(select(T.c.status).where(T.c.plan_id == plan_id).with_for_update()).scalar()
    values = {"status": status, "evaluated_at": evaluated_at, "checks": checks, "rto_forecast": rto_forecast}
    conn.execute(
        pg_insert(T).values(plan_id=plan_id, **values).on_conflict_do_update(index_elements=[T.c.plan_id], set_=values)
    )
    before = previous or "notEvaluated"
    return before if before != status else None


def add_change(conn: Connection, plan_id: str, from_status: str, to_status: str, message: str) -> None:
    conn.execute(insert(C).values(plan_id=plan_id, from_status=from_status, to_status=to_status, message=message))


def changes(conn: Connection, plan_id: str, limit: int = 50) -> list[Row]:
    """The plan's latest status changes, oldest first."""
    query = select(C).where(C.c.plan_id == plan_id).order_by(C.c.id.desc()).limit(limit)
    return list(reversed(list(conn.execute(query))))
