"""Protection groups and recovery plans: CRUD, selection preview, plan validation."""

from __future__ import annotations

from ..auth import current_principal
from ..container import services
from ..schemas import (
    GroupCreate,
    GroupList,
    GroupOut,
    GroupUpdate,
    IdPath,
    MessageOut,
    PlanCreate,
    PlanList,
    PlanOut,
    PlanUpdate,
    PlanValidation,
    PreviewOut,
    PreviewRequest,
    VersionQuery,
)
from .common import CLIENT_ERRORS, errors, respond, secured_blueprint

groups_bp = secured_blueprint("protection_groups", __name__, "/v1/protection-groups", "protection groups")
plans_bp = secured_blueprint("recovery_plans", __name__, "/v1/recovery-plans", "recovery plans")
ERRORS = CLIENT_ERRORS
AWS_ERRORS = {**ERRORS, **errors(502, 503)}


@groups_bp.post("", responses={201: GroupOut, **ERRORS})
def create_group(body: GroupCreate):
    """Create a protection group: `selection` is `{"tags": {...}}` or `{"resourceArns": [...]}`."""
    return respond(GroupOut, services().catalog.create_group(current_principal(), body), 201)


@groups_bp.get("", responses={200: GroupList})
def list_groups():
    return respond(GroupList, {"items": services().catalog.list_groups()})


@groups_bp.post("/preview", responses={200: PreviewOut, **AWS_ERRORS})
def preview_selection(body: PreviewRequest):
    """Resolve a selection now: resources with derived wave, adapter, RTO target and validation errors."""
    return respond(PreviewOut, services().discovery.preview(body))


@groups_bp.get("/<id>", responses={200: GroupOut, **ERRORS})
def get_group(path: IdPath):
    return respond(GroupOut, services().catalog.get_group(path.id))


@groups_bp.put("/<id>", responses={200: GroupOut, **ERRORS})
def update_group(path: IdPath, body: GroupUpdate):
    """Replace a group; send the `version` you read. The region cannot change."""
    return respond(GroupOut, services().catalog.update_group(current_principal(), path.id, body))


@groups_bp.delete("/<id>", responses={200: MessageOut, **ERRORS})
def delete_group(path: IdPath, query: VersionQuery):
    """Delete a group no plan uses; send the `version` you read."""
    return respond(
        MessageOut, {"message": services().catalog.delete_group(current_principal(), path.id, query.version)}
    )


def _plan_view(row) -> dict:
    waves = [{"number": n, **w} for n, w in enumerate(row.waves, start=1)]
    return {**row._mapping, "waves": waves}


@plans_bp.post("", responses={201: PlanOut, **ERRORS})
def create_plan(body: PlanCreate):
    """Create a recovery plan: explicit `waves` (numbered from 1 in the order given) or `autoWaves`."""
    return respond(PlanOut, _plan_view(services().catalog.create_plan(current_principal(), body)), 201)


@plans_bp.get("", responses={200: PlanList})
def list_plans():
    return respond(PlanList, {"items": [_plan_view(row) for row in services().catalog.list_plans()]})


@plans_bp.get("/<id>", responses={200: PlanOut, **ERRORS})
def get_plan(path: IdPath):
    return respond(PlanOut, _plan_view(services().catalog.get_plan(path.id)))


@plans_bp.put("/<id>", responses={200: PlanOut, **ERRORS})
def update_plan(path: IdPath, body: PlanUpdate):
    """Replace a plan; send the `version` you read. Running executions keep what they resolved."""
    return respond(PlanOut, _plan_view(services().catalog.update_plan(current_principal(), path.id, body)))


@plans_bp.delete("/<id>", responses={200: MessageOut, **ERRORS})
def delete_plan(path: IdPath, query: VersionQuery):
    """Delete a plan that is not executing; send the `version` you read. Past executions stay readable."""
    return respond(MessageOut, {"message": services().catalog.delete_plan(current_principal(), path.id, query.version)})


@plans_bp.post("/<id>/validate", responses={200: PlanValidation, **AWS_ERRORS})
def validate_plan(path: IdPath):
    """Dry run: the waves a start would run now, errors, warnings and an RTO estimate. Changes nothing."""
    return respond(PlanValidation, services().discovery.validate_plan(path.id))
