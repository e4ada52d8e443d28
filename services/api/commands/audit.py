"""Reading the audit log: newest first, filtered, cursor-paged."""

from __future__ import annotations

from shared.db.engine import Database
from shared.domain.errors import InvalidCursor
from shared.store import audit

from ..security_schemas import AuditQuery


class AuditQueries:
    def __init__(self, db: Database):
        self.db = db

    def page(self, query: AuditQuery) -> dict:
        before_id = _decode_cursor(query.cursor) if query.cursor else None
        with self.db.engine.connect() as conn:
            rows = audit.page(
                conn,
                entity=query.entity.value if query.entity else None,
                entity_id=query.entity_id,
                actor=query.actor,
                before_id=before_id,
                limit=query.limit + 1,
            )
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        return {"items": rows, "next_cursor": str(rows[-1].id) if more else None}


def _decode_cursor(cursor: str) -> int:
    if not cursor.isdigit() or len(cursor) > 18:
        raise InvalidCursor()
    return int(cursor)
