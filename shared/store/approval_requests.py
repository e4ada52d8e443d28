"""approval_requests: one per gate an execution reached; pending until enough grants, or expired."""

from __future__ import annotations

from sqlalchemy import Connection, Row, func, select, update
from sqlalchemy.dialects.postgresql import insert

from shared.db.tables import approval_requests, executions, recovery_plans
from shared.domain.approvals import ApprovalPolicy, RequestStatus

T = approval_requests


def policy_of(conn: Connection, execution_id: str) -> tuple[ApprovalPolicy, str]:
    """The approval policy of the execution's plan (deleted plans included) and the execution's mode."""
    row = conn.execute(
        select(recovery_plans.c.approvals, executions.c.mode)
        .select_from(executions.join(recovery_plans, recovery_plans.c.id == executions.c.plan_id))
        .where(executions.c.id == execution_id)
    ).one()
    return ApprovalPolicy.from_json(row.approvals), row.mode


def open_gate(conn: Connection, execution_id: str, wave_number: int, reason: str | None) -> Row | None:
    """Open the pending request of a gate (with the plan's policy as it is now); None when one is open."""
    policy, mode = policy_of(conn, execution_id)
    expires = (
        func.clock_timestamp() + func.make_interval(0, 0, 0, 0, 0, 0, policy.timeout_seconds)
        if policy.timeout_seconds
        else None
    )
    return conn.execute(
        insert(T)
        .values(
            execution_id=execution_id,
            wave_number=wave_number,
            required=policy.required_for(mode),
            reason=reason,
            policy=policy.to_json(),
            expires_at=expires,
        )
        .on_conflict_do_nothing()
        .returning(*T.c)
    ).first()


def pending(conn: Connection, execution_id: str, wave_number: int, *, lock: bool = False) -> Row | None:
    query = select(T).where(
        T.c.execution_id == execution_id, T.c.wave_number == wave_number, T.c.status == RequestStatus.PENDING
    )
    return conn.execute(query.with_for_update() if lock else query).first()


def latest(conn: Connection, execution_id: str, wave_number: int) -> Row | None:
    return conn.execute(
        select(T)
        .where(T.c.execution_id == execution_id, T.c.wave_number == wave_number)
        .order_by(T.c.id.desc())
        .limit(1)
    ).first()


def list_for(conn: Connection, execution_id: str) -> list[Row]:
    return list(conn.execute(select(T).where(T.c.execution_id == execution_id).order_by(T.c.id)))


def grant(conn: Connection, request_id: int) -> None:
    conn.execute(
        update(T)
        .where(T.c.id == request_id, T.c.status == RequestStatus.PENDING)
        .values(status=RequestStatus.GRANTED, decided_at=func.clock_timestamp())
    )


def supersede(conn: Connection, execution_id: str) -> list[Row]:
    """Close the execution's pending requests (a retry left the pause they were for): no approval, from
    the API or a stale link, can act on them later. Returns them."""
    return list(
        conn.execute(
            update(T)
            .where(T.c.execution_id == execution_id, T.c.status == RequestStatus.PENDING)
            .values(status=RequestStatus.SUPERSEDED, decided_at=func.clock_timestamp())
            .returning(*T.c)
        )
    )


def expire_due(conn: Connection, limit: int = 100) -> list[Row]:
    """Pending requests past their expiry become expired (compare-and-set); returns them."""
    due = (
        select(T.c.id)
        .where(T.c.status == RequestStatus.PENDING, T.c.expires_at < func.clock_timestamp())
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return list(
        conn.execute(
            update(T)
            .where(T.c.id.in_(due), T.c.status == RequestStatus.PENDING)
            .values(status=RequestStatus.EXPIRED, decided_at=func.clock_timestamp())
            .returning(*T.c)
        )
    )
