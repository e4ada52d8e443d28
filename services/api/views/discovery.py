"""Discovered resources: what is DR-tagged in an account + region, now."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from ..container import services
from ..schemas import ErrorResponse, ResourceList, ResourceQuery
from .common import BEARER, respond

bp = APIBlueprint(
    "resources", __name__, url_prefix="/v1/resources", abp_tags=[Tag(name="resources")], abp_security=BEARER
)
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 502: ErrorResponse, 503: ErrorResponse}


@bp.get("", responses={200: ResourceList, **ERRORS})
def list_resources(query: ResourceQuery):
    """Resources with a `dr:enabled` tag in `accountId` + `region` matching every `tag=K=V`, with derived
    wave, adapter, RTO target and validation errors."""
    return respond(ResourceList, services().discovery.resources(query))
