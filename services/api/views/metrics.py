from __future__ import annotations

from flask import Response, current_app
from flask_openapi3 import APIBlueprint, Tag
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis import RedisError

from ..errors import ApiError
from .common import BEARER

bp = APIBlueprint("metrics", __name__, abp_tags=[Tag(name="metrics")], abp_security=BEARER)
REGISTRY = "drwave_metrics_registry"  # app.extensions key of the registry create_app builds


@bp.get("/metrics")
def metrics():
    """Prometheus metrics of the whole installation, read from Postgres and Redis at scrape time
    (a token is needed unless DRWAVE_METRICS_TOKEN_REQUIRED=false)."""
    try:
        body = generate_latest(current_app.extensions[REGISTRY])
    except RedisError as error:
        detail = type(error).__name__
        raise ApiError(503, "DEPENDENCY_DOWN", f"Redis is unavailable; try again shortly ({detail})") from None
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
