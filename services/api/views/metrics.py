from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .common import BEARER

bp = APIBlueprint("metrics", __name__, abp_tags=[Tag(name="metrics")], abp_security=BEARER)


@bp.get("/metrics")
def metrics():
    """Prometheus metrics of this API process."""
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
