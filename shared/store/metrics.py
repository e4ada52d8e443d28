"""Read-only aggregates over executions, wave runs and resource runs for /metrics, computed at scrape
time so every API process answers the same (the tables are the source of truth, not process memory)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, literal, select

from shared.db.tables import executions, resource_runs, wave_runs

WAVE_DURATION_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)


def executions_by_status_mode_phase(conn: Connection) -> list[tuple[str, str, str, int]]:
    statement = select(executions.c.status, executions.c.mode, executions.c.phase, func.count()).group_by(
        executions.c.status, executions.c.mode, executions.c.phase
    )
    return [tuple(row) for row in conn.execute(statement)]


def waves_by_status(conn: Connection) -> list[tuple[str, int]]:
    return [tuple(row) for row in conn.execute(select(wave_runs.c.status, func.count()).group_by(wave_runs.c.status))]


def resource_runs_by_adapter_status(conn: Connection) -> list[tuple[str, str, int]]:
    statement = select(resource_runs.c.adapter, resource_runs.c.status, func.count()).group_by(
        resource_runs.c.adapter, resource_runs.c.status
    )
    return [tuple(row) for row in conn.execute(statement)]


def finished_wave_durations(
    conn: Connection, buckets: Sequence[float] = WAVE_DURATION_BUCKETS
) -> tuple[list[int], int, float]:
    """Over every wave that started and finished: cumulative counts per bucket upper bound (as
    Prometheus wants them), the count and the sum of durations in seconds — one query, no rows fetched."""
    seconds = func.extract("epoch", wave_runs.c.finished_at - wave_runs.c.started_at)
    finished = wave_runs.c.started_at.is_not(None) & wave_runs.c.finished_at.is_not(None)
    columns = [func.count().filter(seconds <= literal(bound)) for bound in buckets]
    row = conn.execute(select(*columns, func.count(), func.coalesce(func.sum(seconds), 0)).where(finished)).one()
    return [int(v) for v in row[: len(buckets)]], int(row[len(buckets)]), float(row[len(buckets) + 1])
