"""The audit log: who created, changed or deleted which group, plan, target account or token."""

from __future__ import annotations

from ..container import services
from ..schemas import ErrorResponse
from ..security_schemas import AuditPage, AuditQuery
from .common import respond, secured_blueprint

bp = secured_blueprint("audit", __name__, "/v1/audit", "audit")


@bp.get("", responses={200: AuditPage, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse})
def list_audit(query: AuditQuery):
    """Changes newest first, each with actor, time and the fields before and after; filter by `entity`
    (protection-group, recovery-plan, target-account, token), `entityId` and `actor`; page with `cursor`."""
    return respond(AuditPage, services().audit.page(query))
