"""Executions: start, read, control, timeline."""

from __future__ import annotations

from shared.domain.progress import Phase
from shared.domain.roles import Permission

from ..auth import current_principal
from ..commands.executions import ActionResult, StartRequest
from ..commands.retry import RetryOptions
from ..container import services
from ..oncall_schemas import ControlRequest, ResumeRequest
from ..schemas import (
    ActionResponse,
    EventList,
    EventQuery,
    ExecutionDetailQuery,
    ExecutionOut,
    ExecutionPage,
    ExecutionQuery,
    ExecutionStart,
    IdPath,
    RetryRequest,
    SkipRequest,
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
def get_execution(path: IdPath, query: ExecutionDetailQuery):
    """One execution with its waves, counts and resource runs; `resourcesLimit` pages the resource runs
    (ordered by wave, then run) while counts stay those of the whole execution."""
    detail = services().queries.detail(path.id, limit=query.resources_limit, cursor=query.resources_cursor)
    return respond(ExecutionOut, services().drs.with_latest_job_log(detail))


@bp.get("/<id>/events", responses={200: EventList, **ERRORS})
def list_events(path: IdPath, query: EventQuery):
    """The ordered timeline: transitions, who did what, AWS operation ids."""
    return respond(EventList, {"items": services().queries.events(path.id, query.after, query.limit)})


@bp.post("/<id>/pause", responses={200: ActionResponse, **ERRORS})
def pause_execution(path: IdPath, body: ControlRequest):
    """Park the execution as PAUSED once the current wave finishes (the optional body's `comment` is recorded
    on the timeline event)."""
    return _action(services().executions.pause(current_principal(), path.id, body.comment))


@bp.post("/<id>/resume", responses={200: ActionResponse, **ERRORS})
def resume_execution(path: IdPath, body: ResumeRequest):
    """Continue a PAUSED execution with the wave it stopped before: at a gate, an approval (the optional body's
    `comment` recorded; `{"allowDataLoss": true}` at a data loss pause: the waiting Aurora clusters fail over)."""
    principal = current_principal()
    result = services().approvals.approve(
        principal, path.id, body.comment, via_resume=True, allow_data_loss=body.allow_data_loss
    )
    return _action(result)


@bp.post("/<id>/cancel", responses={200: ActionResponse, **ERRORS})
def cancel_execution(path: IdPath, body: ControlRequest):
    """Stop starting new work; resources in flight finish, later waves are CANCELLED (the optional body's
    `comment` is recorded on the timeline event)."""
    return _action(services().executions.cancel(current_principal(), path.id, body.comment))


@bp.post("/<id>/retry", responses={200: ActionResponse, **ERRORS})
def retry_execution(path: IdPath, body: RetryRequest):
    """Give the FAILED or TIMED_OUT resource runs (all, or `resources`) of a PAUSED, COMPLETED_WITH_FAILURES
    or FAILED execution a new attempt; their waves run again in order, SUCCEEDED runs are never started
    again. 409 `NOTHING_TO_RETRY` when no run qualifies, `EXECUTION_NOT_RETRYABLE` in another status;
    404 `RESOURCE_NOT_IN_EXECUTION` for a listed ARN the execution does not have."""
    options = RetryOptions(arns=body.resources, comment=body.comment)
    return _action(services().retry.retry_as(current_principal(), path.id, options))


@bp.post("/<id>/skip", responses={200: ActionResponse, **ERRORS})
def skip_resource(path: IdPath, body: SkipRequest):
    """Accept a FAILED or TIMED_OUT resource run of a PAUSED execution as SKIPPED, with a reason; resume or
    approve then continues. 409 `EXECUTION_NOT_PAUSED`, `RESOURCE_NOT_FAILED`."""
    return _action(services().retry.skip(current_principal(), path.id, body.arn, body.reason))


def _action(result: ActionResult, status: int = 200):
    return respond(ActionResponse, {"message": result.message, "execution": result.execution}, status)
