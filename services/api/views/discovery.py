"""Discovered resources: what is DR-tagged in an account + region, now."""

from __future__ import annotations

from ..container import services
from ..schemas import ResourceList, ResourceQuery
from .common import errors, respond, secured_blueprint

bp = secured_blueprint("resources", __name__, "/v1/resources", "resources")
ERRORS = errors(400, 401, 403, 502, 503)


@bp.get("", responses={200: ResourceList, **ERRORS})
def list_resources(query: ResourceQuery):
    """Resources with a `dr:enabled` tag in `accountId` + `region` matching every `tag=K=V`, with derived
    wave, adapter, RTO target and validation errors."""
    return respond(ResourceList, services().discovery.resources(query))
