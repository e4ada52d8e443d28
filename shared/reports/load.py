"""Read what a report needs from Postgres (through the store modules) and build it."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection

from shared.store import approval_grants, approval_requests, events, executions, resources, waves

from . import model

MAX_EVENTS = 100_000


def report(conn: Connection, execution_id: str) -> dict[str, Any] | None:
    """The report document of an execution, or None when there is no such execution."""
    execution = executions.get(conn, execution_id)
    if execution is None:
        return None
    requests = approval_requests.list_for(conn, execution_id)
    grants = approval_grants.for_requests(conn, [r.id for r in requests])
    inputs = model.Inputs(
        execution=execution,
        waves=waves.list_for(conn, execution_id),
        runs=resources.list_for(conn, execution_id),
        events=[e for e in events.list_for(conn, execution_id, limit=MAX_EVENTS) if e.kind.startswith("execution.")],
        approvals=[SimpleNamespace(**r._mapping, grants=grants[r.id]) for r in requests],
        now=datetime.now(UTC),
        extra={"generatedAt": datetime.now(UTC).isoformat()},
    )
    return model.build(inputs)
