"""Helpers every view uses: serialise a pydantic model to a camelCase JSON response."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel

BEARER = [{"bearer": []}]


def respond(model: type[BaseModel], data: Any, status: int = 200) -> Response:
    response = jsonify(model.model_validate(data).model_dump(by_alias=True, mode="json"))
    response.status_code = status
    return response
