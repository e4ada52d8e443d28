"""executions: the one module that writes the executions table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from shared.db.tables import executions, resource_runs, wave_runs
from shared.domain.progress import ExecutionSnapshot, Phase, StageCounts, WaveSnapshot
from shared.domain.states import (
    EXECUTION_ACTIVE,
    EXECUTION_TERMINAL,
    RESOURCE_FAILED,
    RESOURCE_TERMINAL,
    ExecutionStatus,
    ResourceStatus,
)
from shared.store import events, resource_locks
from shared.store.resources import awaiting_data_loss
from shared.store.transition import guard


def get(conn: Connection, execution_id: str) -> Row | None:
    return conn.execute(select(executions).where(executions.c.id == execution_id)).first()


def move(
    conn: Connection,
    execution_id: str,
    expected: ExecutionStatus,
    target: ExecutionStatus,
    *,
    actor: str,
    message: str,
    values: dict[str, Any] | None = None,
    kind: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Row | None:
    """Compare-and-set `expected -> target`; returns the updated row, or None when another writer won.
    The timeline entry is `execution.<target>` unless `kind` names it (a retry: `execution.retried`)."""
    changes: dict[str, Any] = {"status": target.value, "updated_at": func.clock_timestamp(), **(values or {})}
    if target is ExecutionStatus.RUNNING:
        changes.setdefault("started_at", func.coalesce(executions.c.started_at, func.clock_timestamp()))
    if target in EXECUTION_TERMINAL:
        changes["finished_at"] = func.clock_timestamp()
    row = conn.execute(
        update(executions)
        .where(executions.c.id == execution_id, guard(executions.c.status, expected, target))
        .values(**changes)
        .returning(*executions.c)
    ).first()
    if row is not None:
        kind = kind or f"execution.{target.value.lower()}"
        events.append(conn, execution_id, kind, actor, message, detail=detail)
        if target in EXECUTION_TERMINAL:  # same transaction as the terminal move (docs/architecture.md, invariants)
            resource_locks.release(conn, execution_id)
    return row


def reopen(
    conn: Connection,
    execution_id: str,
    expected: ExecutionStatus,
    *,
    actor: str,
    message: str,
    detail: dict[str, Any],
) -> Row | None:
    """Retry: `expected` (PAUSED, COMPLETED_WITH_FAILURES, FAILED) -> RUNNING, logged as `execution.retried`.
    None when another writer won, or when another execution of the plan is active now (the partial
    unique index on active executions of a plan refuses a second one)."""
    values = {"paused_before_wave": None, "pause_requested": False, "status_reason": None, "finished_at": None}
    try:
        with conn.begin_nested():
            return move(
                conn,
                execution_id,
                expected,
                ExecutionStatus.RUNNING,
                actor=actor,
                message=message,
                values=values,
                kind="execution.retried",
                detail=detail,
            )
    except IntegrityError:
        return None


def set_fields(conn: Connection, execution_id: str, expected: ExecutionStatus, **values: Any) -> bool:
    """Change non-status fields (current wave, pause request) only while the status is `expected`."""
    result = conn.execute(
        update(executions)
        .where(executions.c.id == execution_id, executions.c.status == expected.value)
        .values(updated_at=func.clock_timestamp(), **values)
    )
    return result.rowcount == 1


def snapshot(conn: Connection, execution_id: str) -> ExecutionSnapshot | None:
    """The execution and its waves with resource counts: everything `next_step` needs, in two queries."""
    execution = get(conn, execution_id)
    if execution is None:
        return None
    terminal = [s.value for s in RESOURCE_TERMINAL]
    failed = [s.value for s in RESOURCE_FAILED]
    r = resource_runs
    counts = (
        select(
            r.c.wave_number,
            r.c.stage,
            func.count().label("total"),
            func.count().filter(r.c.status.not_in(terminal)).label("unfinished"),
            func.count().filter(r.c.status.in_(failed)).label("failed"),
            func.count().filter(r.c.status == ResourceStatus.CANCELLED.value).label("cancelled"),
            func.count().filter(awaiting_data_loss()).label("awaiting_data_loss"),
            func.min(r.c.error).filter(awaiting_data_loss()).label("data_loss_reason"),
        )
        .where(r.c.execution_id == execution_id)
        .group_by(r.c.wave_number, r.c.stage)
        .subquery()
    )
    w = wave_runs
    rows = conn.execute(
        select(
            w,
            counts.c.stage.label("run_stage"),
            *(counts.c[k] for k in ("total", "unfinished", "failed", "cancelled")),
            counts.c.awaiting_data_loss,
            counts.c.data_loss_reason,
        )
        .select_from(w.outerjoin(counts, counts.c.wave_number == w.c.number))
        .where(w.c.execution_id == execution_id)
    ).all()
    by_wave: dict[int, tuple[Row, list[StageCounts]]] = {}
    stage_rows: dict[int, list[Row]] = {}
    for row in rows:  # one row per stage of a wave (one for a wave without actions)
        _, stages = by_wave.setdefault(row.number, (row, []))
        stage_rows.setdefault(row.number, []).append(row)
        if row.run_stage is not None:
            stages.append(StageCounts(row.run_stage, row.total, row.unfinished, row.failed, row.cancelled))
    waves = tuple(
        WaveSnapshot.of_wave_run(
            row,
            stages,
            awaiting_data_loss=sum(stage_row.awaiting_data_loss or 0 for stage_row in stage_rows[row.number]),
            data_loss_reason=next(
                (stage_row.data_loss_reason for stage_row in stage_rows[row.number] if stage_row.data_loss_reason),
                None,
            ),
        )
        for row, stages in by_wave.values()
    )
    return ExecutionSnapshot(
        id=execution.id,
        status=ExecutionStatus(execution.status),
        phase=Phase(execution.phase),
        pause_requested=execution.pause_requested,
        waves=waves,
        cancel_reason=execution.status_reason if execution.status == ExecutionStatus.CANCELLING else None,
    )


def ids_with_status(conn: Connection, statuses: list[ExecutionStatus], older_than_seconds: float = 0) -> list[str]:
    """Executions in one of `statuses` whose row has not changed for `older_than_seconds`."""
    cutoff = func.clock_timestamp() - func.make_interval(0, 0, 0, 0, 0, 0, older_than_seconds)
    return list(
        conn.scalars(
            select(executions.c.id).where(
                executions.c.status.in_([s.value for s in statuses]), executions.c.updated_at <= cutoff
            )
        )
    )


def create(
    conn: Connection,
    *,
    plan_id: str,
    plan_name: str,
    mode: str,
    phase: str,
    created_by: str,
    reason: str | None,
    source_execution_id: str | None,
    failover: str = "auto",
    allow_data_loss: bool = False,
) -> Row | None:
    """Insert a PENDING execution; None when the plan has an active execution already (the partial
    unique index on active executions of a plan settles a race of two starts)."""
    try:
        with conn.begin_nested():
            row = conn.execute(
                insert(executions)
                .values(
                    plan_id=plan_id,
                    plan_name=plan_name,
                    mode=mode,
                    phase=phase,
                    created_by=created_by,
                    reason=reason,
                    source_execution_id=source_execution_id,
                    failover=failover,
                    allow_data_loss=allow_data_loss,
                )
                .returning(*executions.c)
            ).one()
    except IntegrityError:
        return None
    events.append(
        conn,
        row.id,
        "execution.pending",
        created_by,
        f"Execution requested: {phase} in {mode} mode of plan '{plan_name}'",
    )
    return row


def page(
    conn: Connection, *, status: str | None, plan_id: str | None, after: tuple[Any, str] | None, limit: int
) -> list[Row]:
    """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
    query = select(executions)
    if status:
        query = query.where(executions.c.status == status)
    if plan_id:
        query = query.where(executions.c.plan_id == plan_id)
    if after is not None:
        query = query.where(tuple_(executions.c.created_at, executions.c.id) < tuple_(*after))
    return list(conn.execute(query.order_by(executions.c.created_at.desc(), executions.c.id.desc()).limit(limit)))


def active_for_plan(conn: Connection, plan_id: str) -> str | None:
    return conn.scalar(
        select(executions.c.id).where(
            executions.c.plan_id == plan_id, executions.c.status.in_([s.value for s in EXECUTION_ACTIVE])
        )
    )
