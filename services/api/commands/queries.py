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


def encode_run_cursor(wave_number: int, run_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([wave_number, run_id]).encode()).decode()


def decode_run_cursor(cursor: str) -> tuple[int, int]:
    try:
        wave_number, run_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return int(wave_number), int(run_id)
    except (ValueError, TypeError) as error:
        raise InvalidCursor("resourcesCursor") from error


class ExecutionQueries:
    def __init__(self, db: Database):
        self.db = db

    def detail(self, execution_id: str, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        """The execution with every resource run, or with `limit` of them after `cursor` (counts are
        always the whole execution's, counted in Postgres)."""
        after = decode_run_cursor(cursor) if cursor else None
        with self.db.engine.connect() as conn:
            row = executions.get(conn, execution_id)
            if row is None:
                raise ExecutionNotFound(execution_id)
            wave_rows = waves.list_for(conn, execution_id)
            counted = resources.counts_for(conn, execution_id)
            runs = resources.list_for(conn, execution_id, after=after, limit=limit + 1 if limit else None)
        next_cursor = None
        if limit is not None and len(runs) > limit:
            runs = runs[:limit]
            next_cursor = encode_run_cursor(runs[-1].wave_number, runs[-1].id)
        by_wave: dict[int, list] = {}
        for run in runs:
            by_wave.setdefault(run.wave_number, []).append(run)
        for listed in by_wave.values():  # in the order they run: pre-actions, resources, post-actions
            listed.sort(key=lambda run: (run.stage, run.id))
        totals: Counter[str] = Counter()
        wave_views = []
        for wave in wave_rows:
            counts = counted.get(wave.number, {})
            totals.update(counts)
            wave_views.append(
                {
                    **wave._mapping,
                    "pause_before_wave": wave.pause_before,
                    "counts": counts,
                    "resources": by_wave.get(wave.number, []),
                }
            )
        return {**row._mapping, "counts": dict(totals), "waves": wave_views, "next_resources_cursor": next_cursor}

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
