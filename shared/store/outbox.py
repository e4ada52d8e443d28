"""notification_outbox: notifiable events, written in the transaction of the change that caused them.

Timeline entries reach it through the trigger of migration 0005; `emit` is for events that are not on an
execution's timeline (a subscription's test event).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, text, update

from shared.db.tables import execution_events, notification_outbox

T = notification_outbox
FAN_OUT_LOCK = 0x64727761  # pg advisory lock key: one fan-out at a time keeps the outbox order


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def emit(conn: Connection, *, kind: str, envelope: dict[str, Any], execution_id: str | None = None) -> Row:
    """An outbox row whose envelope is already built (fanned out by the caller)."""
    return conn.execute(
        insert(T)
        .values(event_id=envelope["id"], kind=kind, execution_id=execution_id, envelope=envelope)
        .returning(*T.c)
    ).one()


def take_fan_out_lock(conn: Connection) -> bool:
    """Transaction-scoped: whether this transaction is the one fanning out now."""
    return bool(conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": FAN_OUT_LOCK}))


def unfanned(conn: Connection, limit: int) -> list[Row]:
    """Rows not yet fanned out, oldest first, each with its timeline entry (null for emitted rows)."""
    e = execution_events
    return list(
        conn.execute(
            select(
                T,
                e.c.actor,
                e.c.message,
                e.c.wave_number,
                e.c.resource_arn,
                e.c.detail,
            )
            .select_from(T.outerjoin(e, e.c.id == T.c.timeline_event_id))
            .where(T.c.fanned_out_at.is_(None))
            .order_by(T.c.id)
            .limit(limit)
        )
    )


def mark_fanned(conn: Connection, outbox_id: int, envelope: dict[str, Any]) -> None:
    conn.execute(update(T).where(T.c.id == outbox_id).values(envelope=envelope, fanned_out_at=func.clock_timestamp()))


def was_paused_before(conn: Connection, execution_id: str, timeline_event_id: int) -> bool:
    """Whether the execution was PAUSED before this timeline entry (so RUNNING means resumed)."""
    e = execution_events
    return (
        conn.scalar(
            select(e.c.id)
            .where(e.c.execution_id == execution_id, e.c.kind == "execution.paused", e.c.id < timeline_event_id)
            .limit(1)
        )
        is not None
    )
