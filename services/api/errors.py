"""One error shape for every failure: {"error": {"code", "message", "details"}} (DESIGN §5)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, http_status: int, code: str, message: str, /, **details: Any):
        super().__init__(message)
        self.status = http_status
        self.code = code
        self.message = message
        self.details = details


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def field_path(loc: tuple) -> str:
    """('waves', 0, 'onFailure') -> 'waves[0].onFailure'."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def validation_error_response(error: ValidationError) -> Response:
    problems = [
        {"field": field_path(e["loc"]) or "body", "problem": e["msg"], "type": e["type"]}
        for e in error.errors(include_url=False, include_input=False)
    ]
    first = problems[0] if problems else {"field": "body", "problem": "invalid"}
    message = f"{first['field']}: {first['problem']}"
    if first["field"] == "body" and "dictionary" in first["problem"]:
        message = "body: expected a JSON object"
    return error_response(400, "INVALID_REQUEST", message, {"errors": problems})


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, error.details)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = (error.name or "error").upper().replace(" ", "_")
        return error_response(error.code or 500, code, error.description or error.name)

    @app.errorhandler(OperationalError)
    def _database_down(error: OperationalError):
        log.error("database unavailable: %s", error)
        return error_response(503, "DEPENDENCY_DOWN", "the database is unavailable; try again shortly")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unexpected error")
        return error_response(500, "INTERNAL", "unexpected server error; it has been logged")
