"""Protection groups and recovery plans."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from ..auth import current_principal
from ..container import services
from ..schemas import ErrorResponse, GroupCreate, GroupList, GroupOut, IdPath, PlanCreate, PlanList, PlanOut
from .common import BEARER, respond

groups_bp = APIBlueprint(
    "protection_groups",
    __name__,
    url_prefix="/v1/protection-groups",
    abp_tags=[Tag(name="protection groups")],
    abp_security=BEARER,
)
plans_bp = APIBlueprint(
    "recovery_plans",
    __name__,
    url_prefix="/v1/recovery-plans",
    abp_tags=[Tag(name="recovery plans")],
    abp_security=BEARER,
)
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse}


@groups_bp.post("", responses={201: GroupOut, **ERRORS})
def create_group(body: GroupCreate):
    """Create a protection group from explicit resource ARNs."""
    return respond(GroupOut, services().catalog.create_group(current_principal(), body), 201)


@groups_bp.get("", responses={200: GroupList})
def list_groups():
    return respond(GroupList, {"items": services().catalog.list_groups()})


@groups_bp.get("/<id>", responses={200: GroupOut, **ERRORS})
def get_group(path: IdPath):
    return respond(GroupOut, services().catalog.get_group(path.id))


def _plan_view(row) -> dict:
    waves = [{"number": n, **w} for n, w in enumerate(row.waves, start=1)]
    return {**row._mapping, "waves": waves}


@plans_bp.post("", responses={201: PlanOut, **ERRORS})
def create_plan(body: PlanCreate):
    """Create a recovery plan; waves are numbered from 1 in the order given."""
    return respond(PlanOut, _plan_view(services().catalog.create_plan(current_principal(), body)), 201)


@plans_bp.get("", responses={200: PlanList})
def list_plans():
    return respond(PlanList, {"items": [_plan_view(row) for row in services().catalog.list_plans()]})


@plans_bp.get("/<id>", responses={200: PlanOut, **ERRORS})
def get_plan(path: IdPath):
    return respond(PlanOut, _plan_view(services().catalog.get_plan(path.id)))
