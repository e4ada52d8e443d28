"""wave_runs: the one module that writes the wave_runs table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from shared.db.tables import wave_runs
from shared.domain.states import WAVE_TERMINAL, WaveStatus
from shared.store import events
from shared.store.transition import guard


def insert_many(conn: Connection, execution_id: str, specs: list[dict[str, Any]]) -> None:
    """An execution's waves, PENDING. specs: dicts with number, name, pause_before, on_failure, timeout_seconds."""
    conn.execute(insert(wave_runs), [{"execution_id": execution_id, **spec} for spec in specs])


def get(conn: Connection, execution_id: str, number: int) -> Row | None:
    return conn.execute(
        select(wave_runs).where(wave_runs.c.execution_id == execution_id, wave_runs.c.number == number)
    ).first()


def list_for(conn: Connection, execution_id: str) -> list[Row]:
    return list(
        conn.execute(select(wave_runs).where(wave_runs.c.execution_id == execution_id).order_by(wave_runs.c.number))
    )


def move(
    conn: Connection,
    execution_id: str,
    number: int,
    expected: WaveStatus,
    target: WaveStatus,
    *,
    actor: str,
    message: str,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> Row | None:
    """Compare-and-set one wave's status (and `values`); None when another writer won."""
    changes: dict[str, Any] = {"status": target.value, "status_reason": reason, **(values or {})}
    if target is WaveStatus.RUNNING:
        changes["started_at"] = func.clock_timestamp()
    if target in WAVE_TERMINAL:
        changes["finished_at"] = func.clock_timestamp()
    if target is WaveStatus.PENDING:  # retried: it runs again, and may run past its RTO target again
        # started_at too: RUNNING sets it again, and until then a stale task of its runs claims nothing
        changes |= {"started_at": None, "finished_at": None, "rto_at_risk_at": None}
    row = conn.execute(
        update(wave_runs)
        .where(
            wave_runs.c.execution_id == execution_id,
            wave_runs.c.number == number,
            guard(wave_runs.c.status, expected, target),
        )
        .values(**changes)
        .returning(*wave_runs.c)
    ).first()
    if row is not None:
        events.append(
            conn,
            execution_id,
            f"wave.{target.value.lower()}",
            actor,
            message,
            wave_number=number,
            detail=detail,
        )
    return row


def start_stage(
    conn: Connection, execution_id: str, number: int, after: int, stage: int, *, actor: str, message: str
) -> bool:
    """Compare-and-set the running wave's dispatched stage `after` -> `stage` (a resume between its stages is
    used up); False when another writer won: only the winner dispatches the stage."""
    row = conn.execute(
        update(wave_runs)
        .where(
            wave_runs.c.execution_id == execution_id,
            wave_runs.c.number == number,
            wave_runs.c.status == WaveStatus.RUNNING.value,
            wave_runs.c.stage == after,
        )
        .values(stage=stage, passed_stage=None)
        .returning(wave_runs.c.id)
    ).first()
    if row is not None:
        events.append(conn, execution_id, "wave.stage", actor, message, wave_number=number, detail={"stage": stage})
    return row is not None


def pass_gate(conn: Connection, execution_id: str, number: int) -> None:
    """Record that a human approved starting this wave (resume), so its pause gate is not hit again; for a
    wave paused between its stages, that it may go on after the stage it paused after (``passed_stage``)."""
    conn.execute(
        update(wave_runs)
        .where(wave_runs.c.execution_id == execution_id, wave_runs.c.number == number)
        .values(gate_passed=True, passed_stage=wave_runs.c.stage)
    )


def flag_past_rto(conn: Connection, limit: int = 100) -> list[Row]:
    """RUNNING waves that just ran past their RTO target, flagged once (compare-and-set on the flag)."""
    # make_interval(years, months, weeks, days, hours, mins): the target is in minutes
    deadline = wave_runs.c.started_at + func.make_interval(0, 0, 0, 0, 0, wave_runs.c.rto_target_minutes)
    due = (
        select(wave_runs.c.id)
        .where(
            wave_runs.c.status == WaveStatus.RUNNING.value,
            wave_runs.c.rto_at_risk_at.is_(None),
            wave_runs.c.rto_target_minutes.is_not(None),
            deadline < func.clock_timestamp(),
        )
        .limit(limit)
        .scalar_subquery()
    )
    return list(
        conn.execute(
            update(wave_runs)
            .where(wave_runs.c.id.in_(due), wave_runs.c.rto_at_risk_at.is_(None))
            .values(rto_at_risk_at=func.clock_timestamp())
            .returning(*wave_runs.c)
        )
    )
