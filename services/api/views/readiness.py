"""Readiness of recovery plans: the last evaluation of each plan's preflight checks."""

from __future__ import annotations

from ..container import services
from ..schemas import IdPath
from ..schemas_drs import ReadinessList, ReadinessOut
from .common import errors, respond, secured_blueprint

bp = secured_blueprint("readiness", __name__, "/v1", "readiness")
ERRORS = errors(400, 401, 403, 404)


@bp.get("/recovery-plans/<id>/readiness", responses={200: ReadinessOut, **ERRORS})
def plan_readiness(path: IdPath):
    """`ready`, `actionRequired` or `notEvaluated`, with the checks and RTO forecast of the last evaluation."""
    return respond(ReadinessOut, services().readiness.plan(path.id))


@bp.get("/readiness", responses={200: ReadinessList, **ERRORS})
def list_readiness():
    """Every plan's readiness status."""
    return respond(ReadinessList, {"items": services().readiness.all()})
