"""notification_deliveries: one row per (subscription, event), delivered at least once, in order per
subscription and stream: an execution's events, a plan's plan-level events (``plan.readiness_changed``),
or an event on its own (a subscription's test event)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert

from shared.db.tables import notification_deliveries, notification_outbox, subscriptions

T = notification_deliveries
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

LEASE_MARGIN = 30.0
"""Seconds a delivery being attempted stays leased beyond one attempt's timeout."""


def stream_of(*, execution_id: str | None, plan_id: str | None, event_id: str) -> str:
    """The ordering key of an event: its execution's, else (a plan-level event) its plan's, else its own.
    Deliveries of one stream to one subscription go out in outbox order."""
    if execution_id is not None:
        return f"execution:{execution_id}"
    if plan_id is not None:
        return f"plan:{plan_id}"
    return f"event:{event_id}"


def add(
    conn: Connection,
    *,
    subscription_id: str,
    outbox: Row | Any,
    event_type: str,
    plan_id: str | None = None,
    leased_for: float | None = None,
) -> int | None:
    """A pending delivery in its stream (see `stream_of`; ``plan_id`` orders an event without an execution
    with its plan's); ``leased_for`` seconds: its caller attempts it now, so the notifier leaves it alone
    meanwhile (and takes it over should the caller die before it records the outcome)."""
    lease = {"lease_until": func.clock_timestamp() + func.make_interval(0, 0, 0, 0, 0, 0, leased_for)}
    row = conn.execute(
        insert(T)
        .values(
            subscription_id=subscription_id,
            outbox_id=outbox.id,
            execution_id=outbox.execution_id,
            event_id=outbox.event_id,
            stream=stream_of(execution_id=outbox.execution_id, plan_id=plan_id, event_id=outbox.event_id),
            event_type=event_type,
            **(lease if leased_for is not None else {}),
        )
        .on_conflict_do_nothing()
        .returning(T.c.id)
    ).first()
    return None if row is None else row.id


def lease_due_heads(conn: Connection, lease_seconds: float, limit: int = 200) -> list[int]:
    """Lease the first pending delivery of every (subscription, stream) that is due and not leased; the
    caller queues one deliver task per id. Later events of a stream wait for its head."""
    return list(
        conn.scalars(
            text(
                """
                WITH heads AS (
                    SELECT DISTINCT ON (subscription_id, stream)
                           id, next_attempt_at, lease_until
                    FROM notification_deliveries WHERE status = 'pending'
                    ORDER BY subscription_id, stream, outbox_id
                ), due AS (
                    SELECT id FROM heads
                    WHERE next_attempt_at <= clock_timestamp()
                      AND (lease_until IS NULL OR lease_until < clock_timestamp())
                    LIMIT :limit
                )
                UPDATE notification_deliveries d
                SET lease_until = clock_timestamp() + make_interval(secs => :lease)
                FROM due
                WHERE d.id = due.id AND d.status = 'pending'
                  AND (d.lease_until IS NULL OR d.lease_until < clock_timestamp())
                RETURNING d.id
                """
            ),
            {"lease": lease_seconds, "limit": limit},
        )
    )


def load(conn: Connection, delivery_id: int) -> Row | None:
    """A delivery with its subscription and envelope, and the database clock."""
    s, o = subscriptions, notification_outbox
    return conn.execute(
        select(
            T,
            s.c.kind,
            s.c.target,
            s.c.secret,
            o.c.envelope,
            o.c.at.label("event_at"),
            func.clock_timestamp().label("now"),
        )
        .select_from(T.join(s, s.c.id == T.c.subscription_id).join(o, o.c.id == T.c.outbox_id))
        .where(T.c.id == delivery_id)
    ).first()


def earlier_pending(conn: Connection, delivery: Row) -> bool:
    """Whether an earlier event of the same stream is still undelivered (it goes first)."""
    return (
        conn.scalar(
            select(T.c.id)
            .where(
                T.c.subscription_id == delivery.subscription_id,
                T.c.stream == delivery.stream,
                T.c.status == PENDING,
                T.c.outbox_id < delivery.outbox_id,
            )
            .limit(1)
        )
        is not None
    )


def release(conn: Connection, delivery_id: int) -> None:
    conn.execute(update(T).where(T.c.id == delivery_id).values(lease_until=None))


def delivered(conn: Connection, delivery_id: int, status_code: int | None) -> bool:
    return bool(
        conn.execute(
            update(T)
            .where(T.c.id == delivery_id, T.c.status == PENDING)
            .values(
                status=DELIVERED,
                attempts=T.c.attempts + 1,
                last_status_code=status_code,
                last_error=None,
                delivered_at=func.clock_timestamp(),
                lease_until=None,
            )
        ).rowcount
    )


def attempt_failed(
    conn: Connection, delivery_id: int, *, error: str, status_code: int | None, retry_at: datetime | None
) -> None:
    """Record a failed attempt: try again at `retry_at`, or give up (failed) when it is None."""
    values: dict[str, Any] = {
        "attempts": T.c.attempts + 1,
        "last_error": error[:2000],
        "last_status_code": status_code,
        "lease_until": None,
    }
    values |= {"next_attempt_at": retry_at} if retry_at is not None else {"status": FAILED}
    conn.execute(update(T).where(T.c.id == delivery_id, T.c.status == PENDING).values(**values))


def page(conn: Connection, subscription_id: str, *, before_id: int | None, limit: int) -> list[Row]:
    query = select(T).where(T.c.subscription_id == subscription_id)
    if before_id is not None:
        query = query.where(T.c.id < before_id)
    return list(conn.execute(query.order_by(T.c.id.desc()).limit(limit)))


def now(conn: Connection) -> datetime:
    return conn.scalar(select(literal_column("clock_timestamp()")))
