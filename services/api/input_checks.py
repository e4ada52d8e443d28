"""Checks every request passes before a view sees it, so bad input is a 400 naming the field, never a 500:
the body must be JSON (``MALFORMED_JSON``) nested at most `MAX_JSON_DEPTH` levels, and no string — in
the body, the query or the path — may hold a NUL byte (PostgreSQL text cannot store one)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Flask, request

from .errors import ApiError, field_path

MAX_JSON_DEPTH = 64
CONSOLE_BLUEPRINT = "console"
NUL = "\x00"


def install_input_checks(app: Flask) -> None:
    @app.before_request
    def _check_input():
        for where, values in (("query", request.args.items(multi=True)), ("path", (request.view_args or {}).items())):
            for name, value in values:
                if NUL in name or (isinstance(value, str) and NUL in value):
                    raise _nul_error(name, where)
        if request.method not in ("POST", "PUT", "PATCH") or not request.content_length:
            return None
        if request.blueprint == CONSOLE_BLUEPRINT:  # the web console's forms post urlencoded bodies
            for name, value in request.form.items(multi=True):
                if NUL in name or NUL in value:
                    raise _nul_error(name, "form")
            return None
        if not request.is_json:
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")
        try:
            body = json.loads(request.get_data(cache=True))
        except RecursionError:
            raise _too_deep() from None
        except ValueError as error:
            raise ApiError(400, "MALFORMED_JSON", f"body: not valid JSON ({error})") from None
        for path, value in _walk(body):
            if len(path) >= MAX_JSON_DEPTH and isinstance(value, dict | list):  # the root object is level 1
                raise _too_deep()
            if isinstance(value, str) and NUL in value:
                raise _nul_error(field_path(path) or "body", "body")
        return None


def _walk(document: Any) -> Iterator[tuple[tuple, Any]]:
    """Every value of a JSON document with its path; object keys are yielded as string values too.
    Iterative, so depth costs no stack."""
    stack: list[tuple[tuple, Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            for key, item in value.items():
                yield (*path, key), key
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, index), item) for index, item in enumerate(value))


def _nul_error(field: str, where: str) -> ApiError:
    field = field.replace(NUL, "\\u0000")
    return ApiError(400, "INVALID_REQUEST", f"{field}: contains a NUL byte (\\u0000)", field=field, location=where)


def _too_deep() -> ApiError:
    return ApiError(400, "MALFORMED_JSON", f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels")
