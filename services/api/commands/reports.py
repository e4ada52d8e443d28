"""The evidence report of an execution, as JSON, HTML or SVG."""

from __future__ import annotations

from typing import Any

from shared.db.engine import Database
from shared.domain.errors import ExecutionNotFound
from shared.reports import html, load, svg


class ReportQueries:
    def __init__(self, db: Database):
        self.db = db

    def report(self, execution_id: str) -> dict[str, Any]:
        with self.db.engine.connect() as conn:
            document = load.report(conn, execution_id)
        if document is None:
            raise ExecutionNotFound(execution_id)
        return document

    def rendered(self, execution_id: str, format: str) -> str:
        document = self.report(execution_id)
        return html.render(document) if format == "html" else svg.render(document)
