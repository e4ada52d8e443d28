"""The console's doors into the service layer: the same command objects and permission-table entries
as the API's views, one function per button. (One file to adapt when the service layer changes.)"""

from __future__ import annotations

from typing import Any

from services.api.auth import PERMISSIONS
from services.api.commands.executions import StartRequest
from services.api.commands.retry import RetryOptions
from services.api.container import services
from shared.domain.progress import Mode, Phase
from shared.domain.roles import Permission

from .guard import may, require

APPROVE_ENDPOINT = "approvals.approve_execution"  # POST /v1/executions/{id}/approve, where the server has it


def has_approvals() -> bool:
    """Whether this server has the approvals service (else a gate opens by resume)."""
    return getattr(services(), "approvals", None) is not None and APPROVE_ENDPOINT in PERMISSIONS


def may_approve() -> bool:
    return may(APPROVE_ENDPOINT) if has_approvals() else may("executions.resume_execution")


def approvals_of(execution_id: str) -> list[dict[str, Any]]:
    """The gates' approval requests with who approved and their comments ([] without approvals)."""
    return services().approvals.list(execution_id) if has_approvals() else []


def approve(execution_id: str, comment: str | None, allow_data_loss: bool = False) -> str:
    """Approve the gate (``allow_data_loss``: at a data loss pause, the clusters waiting for it fail over)."""
    if has_approvals():
        principal = require(APPROVE_ENDPOINT)
        return services().approvals.approve(principal, execution_id, comment, allow_data_loss=allow_data_loss).message
    message = services().executions.resume(require("executions.resume_execution"), execution_id).message
    return message + (" (comment not recorded: this server has no approvals)" if comment else "")


def pause(execution_id: str) -> str:
    return services().executions.pause(require("executions.pause_execution"), execution_id).message


def cancel(execution_id: str) -> str:
    return services().executions.cancel(require("executions.cancel_execution"), execution_id).message


def retry(execution_id: str, comment: str | None) -> str:
    principal = require("executions.retry_execution")
    return services().retry.retry_as(principal, execution_id, RetryOptions(comment=comment)).message


def skip(execution_id: str, arn: str, reason: str) -> str:
    return services().retry.skip(require("executions.skip_resource"), execution_id, arn, reason).message


def start_cleanup(source: dict[str, Any], reason: str) -> tuple[str, str]:
    """Start the cleanup phase of a finished drill, as POST /v1/executions with phase cleanup does;
    returns (new execution id, message)."""
    principal = require("executions.start_execution", Permission.EXECUTIONS_CLEANUP)
    request = StartRequest(
        plan_id=source["planId"], mode=Mode.DRILL, phase=Phase.CLEANUP, source_execution_id=source["id"], reason=reason
    )
    started = services().executions.start(principal, request)
    return started.execution.id, started.message
