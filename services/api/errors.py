"""One error shape for every failure: {"error": {"code", "message", "details"}}, and the one table
that gives each domain error its HTTP status and code (see docs/architecture.md, "Errors")."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from shared.domain import approvals, subscriptions
from shared.domain import errors as domain
from shared.domain.actions import ActionType

log = logging.getLogger(__name__)
UNION_TAGS = frozenset(t.value for t in ActionType)


class ApiError(Exception):
    def __init__(self, http_status: int, code: str, message: str, /, **details: Any):
        super().__init__(message)
        self.status = http_status
        self.code = code
        self.message = message
        self.details = details


DOMAIN_ERRORS: dict[type[domain.DomainError], tuple[int, str]] = {
    domain.ExecutionNotFound: (404, "EXECUTION_NOT_FOUND"),
    domain.PlanNotFound: (404, "PLAN_NOT_FOUND"),
    domain.MissingProtectionGroup: (400, "PROTECTION_GROUP_NOT_FOUND"),
    domain.InvalidWaveAction: (400, "INVALID_WAVE_ACTION"),
    domain.ExecutionNotRunning: (409, "EXECUTION_NOT_RUNNING"),
    domain.ExecutionNotPaused: (409, "EXECUTION_NOT_PAUSED"),
    domain.ExecutionNotCancellable: (409, "EXECUTION_NOT_CANCELLABLE"),
    domain.ExecutionNotRetryable: (409, "EXECUTION_NOT_RETRYABLE"),
    domain.NothingToRetry: (409, "NOTHING_TO_RETRY"),
    domain.ResourceNotInExecution: (404, "RESOURCE_NOT_IN_EXECUTION"),
    domain.ResourceNotFailed: (409, "RESOURCE_NOT_FAILED"),
    domain.PlanAlreadyExecuting: (409, "PLAN_ALREADY_EXECUTING"),
    domain.ResourceInActiveExecution: (409, "RESOURCE_IN_ACTIVE_EXECUTION"),
    domain.VersionConflict: (409, "VERSION_CONFLICT"),
    domain.InvalidResources: (400, "INVALID_RESOURCES"),
    domain.NoResources: (400, "NO_RESOURCES"),
    domain.SourceExecutionRequired: (400, "SOURCE_EXECUTION_REQUIRED"),
    domain.SourceExecutionMismatch: (400, "SOURCE_EXECUTION_MISMATCH"),
    domain.RegionNotEnabled: (400, "REGION_NOT_ENABLED"),
    domain.AccountNotRegistered: (400, "ACCOUNT_NOT_REGISTERED"),
    domain.AwsUnavailable: (503, "AWS_UNAVAILABLE"),
    domain.AwsRefused: (502, "AWS_ERROR"),
    domain.InvalidCursor: (400, "INVALID_CURSOR"),
    domain.TokenNotFound: (404, "TOKEN_NOT_FOUND"),
    domain.TokenAlreadyRevoked: (409, "TOKEN_ALREADY_REVOKED"),
    domain.ProtectionGroupNotFound: (404, "PROTECTION_GROUP_NOT_FOUND"),
    domain.TargetAccountNotFound: (404, "TARGET_ACCOUNT_NOT_FOUND"),
    domain.NameTaken: (409, "NAME_TAKEN"),
    domain.RegionImmutable: (400, "REGION_IMMUTABLE"),
    domain.ProtectionGroupInUse: (409, "PROTECTION_GROUP_IN_USE"),
    domain.ProtectionGroupExecuting: (409, "PROTECTION_GROUP_EXECUTING"),
    domain.PlanExecuting: (409, "PLAN_EXECUTING"),
    domain.TargetAccountInUse: (409, "TARGET_ACCOUNT_IN_USE"),
    domain.TargetAccountExists: (409, "TARGET_ACCOUNT_EXISTS"),
    domain.RoleOfAnotherAccount: (400, "INVALID_REQUEST"),
    domain.PreflightFailed: (409, "PREFLIGHT_FAILED"),
    domain.ResourceRunNotFound: (404, "RESOURCE_RUN_NOT_FOUND"),
    domain.NotADrsResource: (400, "NOT_A_DRS_RESOURCE"),
    domain.NoLaunchSettings: (400, "NO_LAUNCH_SETTINGS"),
    domain.InvalidLaunchSettings: (400, "INVALID_LAUNCH_SETTINGS"),
    domain.RecoveryInstancesServeProduction: (409, "RECOVERY_INSTANCES_SERVE_PRODUCTION"),
    domain.NoDataLossAwaited: (409, "NO_DATA_LOSS_APPROVAL_PENDING"),
    approvals.ApproverIsStarter: (403, "APPROVER_IS_STARTER"),
    approvals.AlreadyApproved: (409, "ALREADY_APPROVED"),
    subscriptions.SubscriptionNotFound: (404, "SUBSCRIPTION_NOT_FOUND"),
    subscriptions.InvalidTarget: (400, "INVALID_TARGET"),
}
"""Every domain error the service layer raises, as the API answers it (a unit test checks none is missing)."""


def status_and_code(error: domain.DomainError) -> tuple[int, str]:
    for kind in type(error).__mro__:
        if kind in DOMAIN_ERRORS:
            return DOMAIN_ERRORS[kind]
    raise LookupError(f"{type(error).__name__} has no entry in DOMAIN_ERRORS")


def code_of(error: domain.DomainError) -> str:
    """The error code a domain error is reported with (also in plan validation's ``errors``)."""
    return status_and_code(error)[1]


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def field_path(loc: tuple) -> str:
    """('waves', 0, 'onFailure') -> 'waves[0].onFailure'; the tag pydantic puts in the path of a tagged union
    member (an action's ``type``) is left out: ``waves[1].preActions[0].functionArn``."""
    path = ""
    for part in loc:
        if part in UNION_TAGS:
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def validation_error_response(error: ValidationError) -> Response:
    problems = [
        {"field": field_path(e["loc"]) or "body", "problem": e["msg"], "type": e["type"]}
        for e in error.errors(include_url=False, include_input=False)
    ]
    first = problems[0] if problems else {"field": "body", "problem": "invalid"}
    message = f"{first['field']}: {first['problem']}"
    if first["field"] == "body" and "dictionary" in first["problem"]:
        message = "body: expected a JSON object"
    return error_response(400, "INVALID_REQUEST", message, {"errors": problems})


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, error.details)

    @app.errorhandler(domain.DomainError)
    def _domain_error(error: domain.DomainError):
        status, code = status_and_code(error)
        return error_response(status, code, error.message, error.details)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = (error.name or "error").upper().replace(" ", "_")
        return error_response(error.code or 500, code, error.description or error.name)

    @app.errorhandler(OperationalError)
    def _database_down(error: OperationalError):
        log.error("database unavailable: %s", error)
        return error_response(503, "DEPENDENCY_DOWN", "the database is unavailable; try again shortly")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unexpected error")
        return error_response(500, "INTERNAL", "unexpected server error; it has been logged")
