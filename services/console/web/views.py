"""The console's pages. Each view: check the session (guard), call the same service function and
permission as the matching API endpoint, render the API's JSON shape with a template."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from pydantic import BaseModel, ValidationError

from services.api.container import services
from services.api.errors import ApiError, validation_error_response
from services.api.schemas import (
    EventOut,
    ExecutionOut,
    ExecutionSummary,
    GroupOut,
    PlanOut,
    PlanValidation,
    PreviewOut,
    PreviewRequest,
)
from services.api.views.catalog import _plan_view
from shared.domain.failover import DATA_LOSS_APPROVAL_REQUIRED
from shared.domain.progress import Mode, Phase
from shared.domain.roles import Permission
from shared.domain.states import EXECUTION_RETRYABLE, RESOURCE_FAILED, ExecutionStatus

from .. import progress
from . import commands
from .guard import authenticate, current_session, may, principal_for, require, secure_headers, store
from .sessions import COOKIE, LOGIN_COOKIE, same_secret

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)
bp.before_request(authenticate)
bp.after_request(secure_headers)
ES = ExecutionStatus
FAILED_RUN = frozenset(s.value for s in RESOURCE_FAILED)
FINISHED = {ES.COMPLETED, ES.COMPLETED_WITH_FAILURES, ES.FAILED, ES.CANCELLED}
EVENTS_SHOWN = 200


def api_json(model: type[BaseModel], data: Any) -> Any:
    """What the API would answer for `data` (camelCase JSON), so both consoles read the same shape."""
    return model.model_validate(data).model_dump(by_alias=True, mode="json")


def page(template: str, http_status: int = 200, *, fragment: bool = False, **context: Any):
    """Render for the session; a whole page shows (and so uses up) the notices of the last action.
    (``http_status``, not ``status``: a template's ``status`` is the executions filter.)"""
    session = current_session()
    notices = []
    if not fragment and session.notices:
        notices, session.notices = session.notices, []
        store().save(session)
    html = render_template(template, csrf=session.csrf, notices=notices, may=may, progress=progress, **context)
    return html, http_status


def notify(message: str) -> None:
    session = current_session()
    session.notices.append(message)
    store().save(session)


def _cookie_args() -> dict[str, Any]:
    return {"httponly": True, "samesite": "Strict", "secure": request.is_secure, "path": "/console"}


def render_errors(response):
    """The API's error answers ({"error": {code, message}}, whichever handler made them) as a page."""
    if response.status_code < 400 or not response.is_json:
        return response
    error = (response.get_json(silent=True) or {}).get("error") or {}
    html = render_template(
        "console/error.html", status=response.status_code, code=error.get("code"), message=error.get("message")
    )
    return make_response(html, response.status_code)


bp.after_request(render_errors)  # registered last, so it runs before secure_headers


# --- login ---------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form posts a token; its CSRF token is a double-submit cookie (there is no session yet)."""
    error, status = None, 200
    if request.method == "POST":
        if not same_secret(request.form.get("csrf_token"), request.cookies.get(LOGIN_COOKIE)):
            raise ApiError(403, "CSRF_FAILED", "the login form expired: reload the page")
        token = request.form.get("token", "").strip()
        if token and principal_for(token) is not None:
            session = store().create(token)
            response = redirect(url_for("console.executions"))
            response.set_cookie(COOKIE, session.id, max_age=store().ttl, **_cookie_args())
            response.delete_cookie(LOGIN_COOKIE, path="/console")
            return response
        error, status = "Unknown or revoked token.", 401
    csrf = secrets.token_urlsafe(32)
    response = make_response(render_template("console/login.html", csrf=csrf, error=error), status)
    response.set_cookie(LOGIN_COOKIE, csrf, max_age=3600, **_cookie_args())
    return response


@bp.post("/logout")
def logout():
    store().delete(current_session().id)
    response = redirect(url_for("console.login"))
    response.delete_cookie(COOKIE, path="/console")
    return response


@bp.get("/")
def home():
    return redirect(url_for("console.executions"))


# --- executions ----------------------------------------------------------------------------------


def _execution_rows(status: str | None) -> list[dict]:
    rows, _ = services().queries.page(status=status or None, plan_id=None, cursor=None, limit=100)
    return [api_json(ExecutionSummary, row) for row in rows]


@bp.get("/executions")
def executions():
    status = request.args.get("status") or None
    return page(
        "console/executions.html", rows=_execution_rows(status), status=status, statuses=[s.value for s in ES]
    )


@bp.get("/executions/rows")
def execution_rows():
    return page("console/_execution_rows.html", fragment=True, rows=_execution_rows(request.args.get("status")))


def _execution(execution_id: str) -> dict:
    return api_json(ExecutionOut, services().queries.detail(execution_id))


def _events(execution_id: str) -> list[dict]:
    items = services().queries.events(execution_id, 0, 5000)
    return [api_json(EventOut, item) for item in items][-EVENTS_SHOWN:]


def actions_for(execution: dict) -> list[str]:
    """The buttons this principal may press in this state (the same rules the API enforces)."""
    status = ES(execution["status"])
    shown = []
    if status is ES.PAUSED and commands.may_approve():
        shown.append("approve")
        if commands.has_approvals() and awaiting_data_loss(execution):
            shown.append("allow-data-loss")
    if status is ES.RUNNING and not execution["pauseRequested"] and may("executions.pause_execution"):
        shown.append("pause")
    if status in (ES.PENDING, ES.RUNNING, ES.PAUSED) and may("executions.cancel_execution"):
        shown.append("cancel")
    failed = [run for wave in execution["waves"] for run in wave["resources"] if run["status"] in FAILED_RUN]
    if status in EXECUTION_RETRYABLE and failed and may("executions.retry_execution"):
        shown.append("retry")
    if status is ES.PAUSED and failed and may("executions.skip_resource"):
        shown.append("skip")
    finished_drill = status in FINISHED and execution["mode"] == Mode.DRILL and execution["phase"] == Phase.INSTANTIATE
    if finished_drill and may("executions.start_execution") and may(Permission.EXECUTIONS_CLEANUP):
        shown.append("cleanup")
    return shown


def awaiting_data_loss(execution: dict) -> list[str]:
    """The clusters a data loss pause asks about: failed for want of a data loss approval, none given yet."""
    return [
        run["arn"]
        for wave in execution["waves"]
        for run in wave["resources"]
        if run["status"] == "FAILED"
        and run.get("errorCode") == DATA_LOSS_APPROVAL_REQUIRED
        and not run.get("dataLossApprovedBy")
    ]


@bp.get("/executions/<execution_id>")
def execution(execution_id: str):
    detail = _execution(execution_id)
    return page(
        "console/execution.html", execution=detail, events=_events(execution_id), actions=actions_for(detail),
        approvals=commands.approvals_of(execution_id), data_loss=awaiting_data_loss(detail),
    )


@bp.get("/executions/<execution_id>/live")
def execution_live(execution_id: str):
    detail, events = _execution(execution_id), _events(execution_id)
    approvals = commands.approvals_of(execution_id)
    return page("console/_execution_live.html", fragment=True, execution=detail, events=events, approvals=approvals)


@bp.get("/executions/<execution_id>/actions")
def execution_actions(execution_id: str):
    detail = _execution(execution_id)
    return page(
        "console/_execution_actions.html",
        fragment=True,
        execution=detail,
        actions=actions_for(detail),
        data_loss=awaiting_data_loss(detail),
    )


def _done(execution_id: str, message: str):
    notify(message)
    return redirect(url_for("console.execution", execution_id=execution_id))


@bp.post("/executions/<execution_id>/approve")
def approve(execution_id: str):
    comment = request.form.get("comment", "").strip() or None
    allow_data_loss = request.form.get("allowDataLoss") == "true"
    return _done(execution_id, commands.approve(execution_id, comment, allow_data_loss))


@bp.post("/executions/<execution_id>/pause")
def pause(execution_id: str):
    return _done(execution_id, commands.pause(execution_id))


@bp.post("/executions/<execution_id>/cancel")
def cancel(execution_id: str):
    return _done(execution_id, commands.cancel(execution_id))


@bp.post("/executions/<execution_id>/retry")
def retry(execution_id: str):
    comment = request.form.get("comment", "").strip() or None
    return _done(execution_id, commands.retry(execution_id, comment))


@bp.post("/executions/<execution_id>/skip")
def skip(execution_id: str):
    reason = request.form.get("reason", "").strip()
    if not reason:
        raise ApiError(400, "INVALID_REQUEST", "reason: a reason is required to skip a resource", field="reason")
    return _done(execution_id, commands.skip(execution_id, request.form.get("arn", ""), reason))


@bp.post("/executions/<execution_id>/cleanup")
def cleanup(execution_id: str):
    reason = request.form.get("reason") or f"cleanup of {execution_id} from the console"
    started_id, message = commands.start_cleanup(_execution(execution_id), reason)
    return _done(started_id, message)


# --- plans and protection groups ---------------------------------------------------------------


@bp.get("/plans")
def plans():
    items = [api_json(PlanOut, _plan_view(row)) for row in services().catalog.list_plans()]
    return page("console/plans.html", plans=items)


@bp.route("/plans/<plan_id>", methods=["GET"])
def plan(plan_id: str):
    return page("console/plan.html", plan=api_json(PlanOut, _plan_view(services().catalog.get_plan(plan_id))))


@bp.post("/plans/<plan_id>/validate")
def validate_plan(plan_id: str):
    require("recovery_plans.validate_plan")
    detail = api_json(PlanOut, _plan_view(services().catalog.get_plan(plan_id)))
    validation = api_json(PlanValidation, services().discovery.validate_plan(plan_id))
    return page("console/plan.html", plan=detail, validation=validation)


@bp.get("/groups")
def groups():
    return page("console/groups.html", groups=[api_json(GroupOut, row) for row in services().catalog.list_groups()])


@bp.get("/groups/<group_id>")
def group(group_id: str):
    return page("console/group.html", group=api_json(GroupOut, services().catalog.get_group(group_id)))


def _parse_tags(text: str) -> dict[str, str]:
    tags = {}
    for part in text.replace(",", "\n").splitlines():
        if part.strip():
            key, sep, value = part.strip().partition("=")
            if not sep or not key.strip():
                raise ApiError(400, "INVALID_REQUEST", f"tags: {part.strip()!r} is not K=V", field="tags")
            tags[key.strip()] = value.strip()
    return tags


@bp.route("/groups/preview", methods=["GET", "POST"])
def preview():
    form = {"region": request.form.get("region", ""), "tags": request.form.get("tags", "")}
    if request.method == "GET":
        return page("console/preview.html", form=form)
    require("protection_groups.preview_selection")
    try:
        selection = {"tags": _parse_tags(form["tags"])}
        body = PreviewRequest.model_validate({"region": form["region"], "selection": selection})
    except ValidationError as error:
        problem = validation_error_response(error).get_json()["error"]["message"]
        return page("console/preview.html", 400, form=form, problem=problem)
    return page("console/preview.html", form=form, result=api_json(PreviewOut, services().discovery.preview(body)))
