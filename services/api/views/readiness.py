"""Readiness of recovery plans: the last evaluation of each plan's preflight checks."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from ..container import services
from ..schemas import ErrorResponse, IdPath
from ..schemas_drs import ReadinessList, ReadinessOut
from .common import BEARER, respond

bp = APIBlueprint("readiness", __name__, url_prefix="/v1", abp_tags=[Tag(name="readiness")], abp_security=BEARER)
ERRORS = {401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse}


@bp.get("/recovery-plans/<id>/readiness", responses={200: ReadinessOut, **ERRORS})
def plan_readiness(path: IdPath):
    """`ready`, `actionRequired` or `notEvaluated`, with the checks and RTO forecast of the last evaluation."""
    return respond(ReadinessOut, services().readiness.plan(path.id))


@bp.get("/readiness", responses={200: ReadinessList, **ERRORS})
def list_readiness():
    """Every plan's readiness status."""
    return respond(ReadinessList, {"items": services().readiness.all()})
