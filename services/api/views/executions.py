"""Executions: start, read, control, timeline."""

from __future__ import annotations

from shared.domain.progress import Phase
from shared.domain.roles import Permission

from ..auth import current_principal
from ..commands.executions import ActionResult, StartRequest
from ..container import services
from ..schemas import (
    ActionResponse,
    EventList,
    EventQuery,
    ExecutionOut,
    ExecutionPage,
    ExecutionQuery,
    ExecutionStart,
    IdPath,
)
from .common import CLIENT_ERRORS, respond, secured_blueprint

bp = secured_blueprint("executions", __name__, "/v1/executions", "executions")
ERRORS = CLIENT_ERRORS


@bp.post("", responses={202: ActionResponse, **ERRORS})
def start_execution(body: ExecutionStart):
    """Start a plan as a drill or a recovery; waves run in the background."""
    principal = current_principal()
    if body.phase is Phase.CLEANUP:
        principal.require(Permission.EXECUTIONS_CLEANUP)
    if body.force:
        principal.require(Permission.EXECUTIONS_FORCE)
    return _action(services().executions.start(principal, StartRequest(**body.model_dump())), 202)


@bp.get("", responses={200: ExecutionPage, **ERRORS})
def list_executions(query: ExecutionQuery):
    """Newest first; pass `nextCursor` back as `cursor` for the next page."""
    rows, cursor = services().queries.page(
        status=query.status, plan_id=query.plan_id, cursor=query.cursor, limit=query.limit
    )
    return respond(ExecutionPage, {"items": rows, "next_cursor": cursor})


@bp.get("/<id>", responses={200: ExecutionOut, **ERRORS})
def get_execution(path: IdPath):
    """One execution with its waves, counts and resource runs."""
    return respond(ExecutionOut, services().drs.with_latest_job_log(services().queries.detail(path.id)))


@bp.get("/<id>/events", responses={200: EventList, **ERRORS})
def list_events(path: IdPath, query: EventQuery):
    """The ordered timeline: transitions, who did what, AWS operation ids."""
    return respond(EventList, {"items": services().queries.events(path.id, query.after, query.limit)})


@bp.post("/<id>/pause", responses={200: ActionResponse, **ERRORS})
def pause_execution(path: IdPath):
    """Park the execution as PAUSED once the current wave finishes."""
    return _action(services().executions.pause(current_principal(), path.id))


@bp.post("/<id>/resume", responses={200: ActionResponse, **ERRORS})
def resume_execution(path: IdPath):
    """Continue a PAUSED execution with the wave it stopped before: at a gate, an approval without a comment."""
    return _action(services().approvals.approve(current_principal(), path.id, None, via_resume=True))


@bp.post("/<id>/cancel", responses={200: ActionResponse, **ERRORS})
def cancel_execution(path: IdPath):
    """Stop starting new work; resources in flight finish, later waves are CANCELLED."""
    return _action(services().executions.cancel(current_principal(), path.id))


def _action(result: ActionResult, status: int = 200):
    return respond(ActionResponse, {"message": result.message, "execution": result.execution}, status)
