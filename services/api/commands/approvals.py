"""Approvals: a gate's approval request collects grants (who, role, comment, when); the grant that reaches
the required number resumes the execution in the same unit of work, and the advance goes out after commit.

Race-free: every approval of a gate locks its pending request (``FOR UPDATE``), so concurrent approvals
are counted one after the other; once the request is granted the execution is RUNNING and later
approvals get 409 ``EXECUTION_NOT_PAUSED``. ``POST .../resume`` is an approval without a comment; at a
requested pause (no gate, no approval request) it resumes as before.

A data loss pause (an ``auto`` recovery whose Aurora primary Region did not answer, docs/architecture.md,
"Graceful, then ungraceful") is a gate too: the grant that completes it with ``allowDataLoss`` records
who approved data loss for each waiting cluster and gives those runs a new attempt (retry's
``retry_in``, in the same unit of work), which fails over; without it the execution goes on and they
stay FAILED.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from shared.domain.approvals import ApprovalPolicy, RequestStatus, check_grant, progress_message
from shared.domain.errors import ExecutionNotFound, ExecutionNotPaused, NoDataLossAwaited
from shared.domain.roles import Permission
from shared.domain.states import ExecutionStatus
from shared.messaging import AdvanceExecution
from shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .executions import ExecutionCommands, existing, quoted_comment
from .retry import RetryCommands, RetryOptions

if TYPE_CHECKING:
    from ..auth import Principal

log = logging.getLogger(__name__)
ES = ExecutionStatus
OPEN_ATTEMPTS = 3  # re-reads when another approver opened the fresh request of an expired gate first
NO_GATE = "no-gate"


@dataclass(frozen=True)
class ApprovalResult:
    """The execution after the approval, the one-line message, and the gate's request (None: no gate)."""

    execution: Row
    message: str
    approval: dict[str, Any] | None = None


def approval_view(request: Any, grants: list[Any]) -> dict[str, Any]:
    return {
        "wave": request.wave_number,
        "status": request.status,
        "required": request.required,
        "reason": request.reason,
        "grants": [{"by": g.approver, "role": g.role, "comment": g.comment, "at": g.at} for g in grants],
        "opened_at": request.opened_at,
        "expires_at": request.expires_at,
    }


class ApprovalCommands:
    def __init__(self, uow: UnitOfWorkFactory, executions: ExecutionCommands):
        self.uow = uow
        self.executions = executions

    def list(self, execution_id: str) -> list[dict[str, Any]]:
        with self.uow() as uow:
            if uow.executions.get(execution_id) is None:
                raise ExecutionNotFound(execution_id)
            requests = uow.approval_requests.list_for(execution_id)
            grants = uow.approval_grants.for_requests([r.id for r in requests])
        return [approval_view(r, grants[r.id]) for r in requests]

    def approve(
        self,
        principal: Principal,
        execution_id: str,
        comment: str | None,
        *,
        via_resume: bool = False,
        allow_data_loss: bool = False,
    ) -> ApprovalResult:
        """`via_resume`: POST .../resume, whose answer keeps its own wording once the gate opens.
        `allow_data_loss`: at a data loss pause, the clusters waiting for it fail over."""
        for _ in range(OPEN_ATTEMPTS):
            with self.uow() as uow:
                outcome = self._approve(uow, principal, execution_id, comment, via_resume, allow_data_loss)
            if outcome is not None:
                break
        else:
            with self.uow() as uow:
                raise ExecutionNotPaused(execution_id, existing(uow, execution_id).status)
        if outcome == NO_GATE and allow_data_loss:  # a requested pause: no cluster waits for data loss
            raise NoDataLossAwaited(execution_id)
        if outcome == NO_GATE:  # a requested pause: nothing to approve, resume as before
            resumed = self.executions.resume(principal, execution_id)
            return ApprovalResult(resumed.execution, resumed.message)
        return outcome

    def _approve(
        self,
        uow: UnitOfWork,
        principal: Principal,
        execution_id: str,
        comment: str | None,
        via_resume: bool,
        allow_data_loss: bool = False,
    ) -> ApprovalResult | str | None:
        """One attempt in one unit of work: the result, NO_GATE, or None to try again."""
        wave = self._paused(uow, execution_id).paused_before_wave
        request = uow.approval_requests.pending(execution_id, wave, lock=True) if wave else None
        current = self._paused(uow, execution_id)  # re-read after the lock: an approval before us may have resumed
        if request is None:
            latest = uow.approval_requests.latest(execution_id, wave) if wave else None
            # no request, or only one a retry superseded: this pause opened none (a requested pause)
            if latest is None or latest.status == RequestStatus.SUPERSEDED:
                return NO_GATE
            if latest.status != RequestStatus.EXPIRED:
                raise ExecutionNotPaused(execution_id, current.status)
            # the gate expired (onTimeout: stay-paused): this approval opens a fresh request
            if uow.approval_requests.open_gate(execution_id, wave, latest.reason) is None:
                return None
            request = uow.approval_requests.pending(execution_id, wave, lock=True)
        principal.require(Permission.EXECUTIONS_APPROVE)
        waiting = uow.resources.asked_data_loss(execution_id) if allow_data_loss else []
        if allow_data_loss and not waiting:
            raise NoDataLossAwaited(execution_id)
        grants = uow.approval_grants.for_requests([request.id])[request.id]
        check_grant(
            ApprovalPolicy.from_json(request.policy),
            approver=principal.name,
            is_starter=principal.actor == current.created_by,
            earlier=[g.approver for g in grants],
            wave=wave,
        )
        grants.append(
            uow.approval_grants.add(request.id, approver=principal.name, role=principal.role.value, comment=comment)
        )
        received = len(grants)
        message = progress_message(execution_id, wave, principal.name, received, request.required)
        uow.events.append(
            execution_id,
            "approval.granted",
            principal.actor,
            message + quoted_comment(comment),
            wave_number=wave,
            detail={
                "by": principal.name,
                "role": principal.role.value,
                "comment": comment,
                "received": received,
                "required": request.required,
                "allowDataLoss": allow_data_loss,
            },
        )
        if received < request.required:
            return ApprovalResult(current, message, approval_view(request, grants))
        uow.approval_requests.grant(request.id)
        if waiting:
            return self._fail_over(uow, principal, execution_id, waiting, wave, grants)
        row = uow.executions.move(
            execution_id,
            ES.PAUSED,
            ES.RUNNING,
            actor=principal.actor,
            message=f"Resumed by {principal.actor} before wave {wave} ({received} of {request.required} approvals)",
            values={"paused_before_wave": None, "status_reason": None},
        )
        if row is None:
            raise ExecutionNotPaused(execution_id, existing(uow, execution_id).status)
        uow.waves.pass_gate(execution_id, wave)
        uow.publish(AdvanceExecution(execution_id))
        name = uow.waves.get(execution_id, wave).name
        count = len(uow.resources.for_wave(execution_id, wave))
        head = f"Resumed {execution_id}" if via_resume else message
        granted = approval_view(uow.approval_requests.latest(execution_id, wave), grants)
        return ApprovalResult(row, f"{head}: wave {wave} '{name}' starting, {count} resources", granted)

    @staticmethod
    def _fail_over(
        uow: UnitOfWork, principal: Principal, execution_id: str, waiting: list[Row], wave: int, grants: list[Any]
    ) -> ApprovalResult:
        """Data loss approved: each waiting cluster's run records who approved it and gets a new attempt,
        which fails over (the retry reopens the execution; the scheduler runs their waves again)."""
        uow.resources.approve_data_loss([run.id for run in waiting], principal.name)
        for run in waiting:
            uow.events.append(
                execution_id,
                "resource.data_loss_approved",
                principal.actor,
                f"{run.arn}: failover with data loss approved by {principal.name}",
                wave_number=run.wave_number,
                detail={"arn": run.arn, "by": principal.name, "role": principal.role.value},
            )
        arns = [run.arn for run in waiting]
        comment = f"data loss approved by {principal.name}"
        retried = RetryCommands.retry_in(uow, execution_id, principal.actor, RetryOptions(arns, comment))
        granted = approval_view(uow.approval_requests.latest(execution_id, wave), grants)
        message = f"Data loss approved for {execution_id} by {principal.name}: {len(arns)} cluster(s) fail over"
        return ApprovalResult(retried.execution, message, granted)


    def _paused(self, uow: UnitOfWork, execution_id: str) -> Row:
        row = existing(uow, execution_id)
        if row.status != ES.PAUSED:
            raise ExecutionNotPaused(execution_id, row.status)
        return row
