"""The evidence report of an execution, as JSON, HTML or SVG."""

from __future__ import annotations

from typing import Any

from shared.db.engine import Database
from shared.reports import html, load, svg

from ..errors import ApiError


class ReportQueries:
    def __init__(self, db: Database):
        self.db = db

    def report(self, execution_id: str) -> dict[str, Any]:
        with self.db.engine.connect() as conn:
            document = load.report(conn, execution_id)
        if document is None:
            raise ApiError(404, "EXECUTION_NOT_FOUND", f"no execution {execution_id!r}")
        return document

    def rendered(self, execution_id: str, format: str) -> str:
        document = self.report(execution_id)
        return html.render(document) if format == "html" else svg.render(document)
