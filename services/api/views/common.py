"""Helpers every view uses: serialise a pydantic model to a camelCase JSON response."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from ..schemas import ErrorResponse

BEARER = [{"bearer": []}]


def secured_blueprint(name: str, import_name: str, url_prefix: str, tag: str) -> APIBlueprint:
    """Endpoints under one URL prefix and OpenAPI tag that all need a bearer token."""
    return APIBlueprint(name, import_name, url_prefix=url_prefix, abp_tags=[Tag(name=tag)], abp_security=BEARER)


def errors(*statuses: int) -> dict[int, type[ErrorResponse]]:
    """The error statuses an endpoint documents, each answered with the one error shape."""
    return dict.fromkeys(statuses, ErrorResponse)


CLIENT_ERRORS = errors(400, 401, 403, 404, 409)


def respond(model: type[BaseModel], data: Any, status: int = 200) -> Response:
    response = jsonify(model.model_validate(data).model_dump(by_alias=True, mode="json"))
    response.status_code = status
    return response
