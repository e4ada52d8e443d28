"""Finished resource runs as recovery-time history (read-only, over resource_runs and executions)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Row, func, select

from shared.db.tables import executions, resource_runs

R, E = resource_runs, executions
HISTORY_LIMIT = 5000


def finished_recoveries(conn: Connection, adapters: Iterable[str], limit: int = HISTORY_LIMIT) -> list[Row]:
    """The newest succeeded instantiate runs (drills and recoveries) of ``adapters``: execution id, ARN,
    adapter and seconds from start to finish."""
    wanted = sorted(set(adapters))
    if not wanted:
        return []
    seconds = func.extract("epoch", R.c.finished_at - R.c.started_at).label("seconds")
    query = (
        select(R.c.execution_id, R.c.arn, R.c.adapter, seconds)
        .join(E, E.c.id == R.c.execution_id)
        .where(
            E.c.phase == "instantiate",
            R.c.status == "SUCCEEDED",
            R.c.adapter.in_(wanted),
            R.c.started_at.is_not(None),
            R.c.finished_at.is_not(None),
        )
        .order_by(R.c.finished_at.desc())
        .limit(limit)
    )
    return list(conn.execute(query))
