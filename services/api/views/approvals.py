"""Approvals of an execution's gates, and its report."""

from __future__ import annotations

from flask import Response

from ..auth import current_principal
from ..container import services
from ..oncall_schemas import ApprovalList, ApproveRequest, ApproveResponse, ReportOut, ReportQuery
from ..schemas import IdPath
from .common import CLIENT_ERRORS, respond, secured_blueprint

bp = secured_blueprint("approvals", __name__, "/v1/executions", "executions")
ERRORS = CLIENT_ERRORS
MEDIA = {"html": "text/html; charset=utf-8", "svg": "image/svg+xml"}


@bp.get("/<id>/approvals", responses={200: ApprovalList, **ERRORS})
def list_approvals(path: IdPath):
    """Every gate's approval request: pending, granted or expired, with its grants."""
    return respond(ApprovalList, {"items": services().approvals.list(path.id)})


@bp.post("/<id>/approve", responses={200: ApproveResponse, **ERRORS})
def approve_execution(path: IdPath, body: ApproveRequest):
    """Approve the gate a PAUSED execution waits at; the last required approval resumes it (with
    `allowDataLoss` at a data loss pause: the waiting Aurora clusters fail over)."""
    result = services().approvals.approve(
        current_principal(), path.id, body.comment, allow_data_loss=body.allow_data_loss
    )
    return respond(
        ApproveResponse, {"message": result.message, "execution": result.execution, "approval": result.approval}
    )


@bp.get("/<id>/report", responses={200: ReportOut, **ERRORS})
def get_report(path: IdPath, query: ReportQuery):
    """The evidence report: JSON, or `?format=html` (one self-contained page), or `?format=svg` (the timeline)."""
    if query.format == "json":
        return respond(ReportOut, services().reports.report(path.id))
    return Response(services().reports.rendered(path.id, query.format), mimetype=MEDIA[query.format])
