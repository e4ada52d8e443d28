"""Approvals: a gate's approval request collects grants (who, role, comment, when); the grant that reaches
the required number resumes the execution in the same unit of work, and the advance goes out after commit.

Race-free: every approval of a gate locks its pending request (``FOR UPDATE``), so concurrent approvals
are counted one after the other; once the request is granted the execution is RUNNING and later
approvals get 409 ``EXECUTION_NOT_PAUSED``. ``POST .../resume`` is an approval without a comment; at a
requested pause (no gate, no approval request) it resumes as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from shared.domain.approvals import ApprovalPolicy, RequestStatus, check_grant, progress_message
from shared.domain.errors import ExecutionNotFound, ExecutionNotPaused
from shared.domain.roles import Permission
from shared.domain.states import ExecutionStatus
from shared.messaging import AdvanceExecution
from shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .executions import ExecutionCommands

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
        self, principal: Principal, execution_id: str, comment: str | None, *, via_resume: bool = False
    ) -> ApprovalResult:
        """`via_resume`: POST .../resume, whose answer keeps its own wording once the gate opens."""
        for _ in range(OPEN_ATTEMPTS):
            with self.uow() as uow:
                outcome = self._approve(uow, principal, execution_id, comment, via_resume)
            if outcome is not None:
                break
        else:
            with self.uow() as uow:
                raise ExecutionNotPaused(execution_id, self._get(uow, execution_id).status)
        if outcome == NO_GATE:  # a requested pause: nothing to approve, resume as before
            resumed = self.executions.resume(principal, execution_id)
            return ApprovalResult(resumed.execution, resumed.message)
        return outcome

    def _approve(
        self, uow: UnitOfWork, principal: Principal, execution_id: str, comment: str | None, via_resume: bool
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
            message + (f' — "{comment}"' if comment else ""),
            wave_number=wave,
            detail={
                "by": principal.name,
                "role": principal.role.value,
                "comment": comment,
                "received": received,
                "required": request.required,
            },
        )
        if received < request.required:
            return ApprovalResult(current, message, approval_view(request, grants))
        uow.approval_requests.grant(request.id)
        row = uow.executions.move(
            execution_id,
            ES.PAUSED,
            ES.RUNNING,
            actor=principal.actor,
            message=f"Resumed by {principal.actor} before wave {wave} ({received} of {request.required} approvals)",
            values={"paused_before_wave": None, "status_reason": None},
        )
        if row is None:
            raise ExecutionNotPaused(execution_id, self._get(uow, execution_id).status)
        uow.waves.pass_gate(execution_id, wave)
        uow.publish(AdvanceExecution(execution_id))
        name = uow.waves.get(execution_id, wave).name
        count = len(uow.resources.for_wave(execution_id, wave))
        head = f"Resumed {execution_id}" if via_resume else message
        granted = approval_view(uow.approval_requests.latest(execution_id, wave), grants)
        return ApprovalResult(row, f"{head}: wave {wave} '{name}' starting, {count} resources", granted)

    @staticmethod
    def _get(uow: UnitOfWork, execution_id: str) -> Row:
        row = uow.executions.get(execution_id)
        if row is None:
            raise ExecutionNotFound(execution_id)
        return row

    def _paused(self, uow: UnitOfWork, execution_id: str) -> Row:
        row = self._get(uow, execution_id)
        if row.status != ES.PAUSED:
            raise ExecutionNotPaused(execution_id, row.status)
        return row
