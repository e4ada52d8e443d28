"""Read models of executions: the detail view, pages and the timeline."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import datetime
from typing import Any

from shared.db.engine import Database
from shared.domain.errors import ExecutionNotFound, InvalidCursor
from shared.store import events, executions, resources, waves


def encode_cursor(created_at: datetime, execution_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at.isoformat(), execution_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created_at, execution_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(created_at), str(execution_id)
    except (ValueError, TypeError) as error:
        raise InvalidCursor() from error


class ExecutionQueries:
    def __init__(self, db: Database):
        self.db = db

    def detail(self, execution_id: str) -> dict[str, Any]:
        with self.db.engine.connect() as conn:
            row = executions.get(conn, execution_id)
            if row is None:
                raise ExecutionNotFound(execution_id)
            wave_rows = waves.list_for(conn, execution_id)
            runs = resources.list_for(conn, execution_id)
        by_wave: dict[int, list] = {}
        for run in runs:
            by_wave.setdefault(run.wave_number, []).append(run)
        wave_views = []
        for wave in wave_rows:
            members = by_wave.get(wave.number, [])
            wave_views.append(
                {
                    **wave._mapping,
                    "pause_before_wave": wave.pause_before,
                    "counts": dict(Counter(r.status for r in members)),
                    "resources": members,
                }
            )
        return {**row._mapping, "counts": dict(Counter(r.status for r in runs)), "waves": wave_views}

    def page(self, *, status: str | None, plan_id: str | None, cursor: str | None, limit: int):
        after = decode_cursor(cursor) if cursor else None
        with self.db.engine.connect() as conn:
            rows = executions.page(conn, status=status, plan_id=plan_id, after=after, limit=limit + 1)
        next_cursor = encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
        return rows[:limit], next_cursor

    def events(self, execution_id: str, after: int, limit: int):
        with self.db.engine.connect() as conn:
            if executions.get(conn, execution_id) is None:
                raise ExecutionNotFound(execution_id)
            return events.list_for(conn, execution_id, after, limit)
