"""Approvals: a gate's approval request collects grants (who, role, comment, when); the grant that reaches
the required number resumes the execution in the same transaction, and the publish follows the commit.

Race-free: every approval of a gate locks its pending request (``FOR UPDATE``), so concurrent approvals
are counted one after the other; once the request is granted the execution is RUNNING and later
approvals get 409 ``EXECUTION_NOT_PAUSED``. ``POST .../resume`` is an approval without a comment; at a
requested pause (no gate, no approval request) it resumes as before.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, Row

from shared.db.engine import Database
from shared.domain.approvals import (
    ApprovalPolicy,
    ApprovalRefused,
    RequestStatus,
    check_grant,
    progress_message,
)
from shared.domain.roles import Permission
from shared.domain.states import ExecutionStatus
from shared.messaging import Publisher
from shared.store import approval_grants, approval_requests, events, executions, resources, waves

from ..auth import Principal
from ..errors import ApiError
from .executions import ExecutionCommands

log = logging.getLogger(__name__)
ES = ExecutionStatus
OPEN_ATTEMPTS = 3  # re-reads when another approver opened the fresh request of an expired gate first


def approval_view(request: Row, grants: list[Row]) -> dict[str, Any]:
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
    def __init__(self, db: Database, publisher: Publisher, executions_commands: ExecutionCommands):
        self.db = db
        self.publisher = publisher
        self.executions = executions_commands

    def list(self, execution_id: str) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            if executions.get(conn, execution_id) is None:
                raise ApiError(404, "EXECUTION_NOT_FOUND", f"no execution {execution_id!r}")
            requests = approval_requests.list_for(conn, execution_id)
            grants = approval_grants.for_requests(conn, [r.id for r in requests])
        return [approval_view(r, grants[r.id]) for r in requests]

    def approve(
        self, principal: Principal, execution_id: str, comment: str | None, *, via_resume: bool = False
    ) -> tuple[Row, str, dict[str, Any] | None]:
        """`via_resume`: POST .../resume, whose answer keeps its own wording once the gate opens."""
        for _ in range(OPEN_ATTEMPTS):
            with self.db.engine.begin() as conn:
                outcome = self._approve(conn, principal, execution_id, comment, via_resume)
            if outcome is not None:
                break
        else:
            raise ApiError(409, "APPROVAL_CONFLICT", f"the approval of {execution_id} kept changing; try again")
        if outcome == "no-gate":  # a requested pause: nothing to approve, resume as before
            row, message = self.executions.resume(principal, execution_id)
            return row, message, None
        row, message, approval, resumed = outcome
        if resumed:
            self._publish(execution_id)
        return row, message, approval

    def _approve(
        self, conn: Connection, principal: Principal, execution_id: str, comment: str | None, via_resume: bool
    ):
        """One attempt in one transaction: None to try again, "no-gate", or (row, message, approval, resumed)."""
        current = self._paused(conn, execution_id)
        wave = current.paused_before_wave
        request = approval_requests.pending(conn, execution_id, wave, lock=True) if wave else None
        current = self._paused(conn, execution_id)  # re-read after the lock: an approval before us may have resumed
        if request is None:
            latest = approval_requests.latest(conn, execution_id, wave) if wave else None
            if latest is None:
                return "no-gate"
            if latest.status != RequestStatus.EXPIRED:
                raise self._not_paused(conn, execution_id)
            with conn.begin_nested():  # the gate expired (stay-paused): this approval opens a fresh request
                opened = approval_requests.open_gate(conn, execution_id, wave, latest.reason)
            if opened is None:
                return None
            request = approval_requests.pending(conn, execution_id, wave, lock=True)
        principal.require(Permission.EXECUTIONS_APPROVE)
        grants = approval_grants.for_requests(conn, [request.id])[request.id]
        try:
            check_grant(
                ApprovalPolicy.from_json(request.policy),
                approver=principal.name,
                is_starter=principal.actor == current.created_by,
                earlier=[g.approver for g in grants],
            )
        except ApprovalRefused as refused:
            raise ApiError(refused.status, refused.code, refused.message, wave=wave) from None
        grants.append(
            approval_grants.add(conn, request.id, approver=principal.name, role=principal.role.value, comment=comment)
        )
        received = len(grants)
        message = progress_message(execution_id, wave, principal.name, received, request.required)
        events.append(
            conn,
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
            return current, message, approval_view(request, grants), False
        approval_requests.grant(conn, request.id)
        row = executions.move(
            conn,
            execution_id,
            ES.PAUSED,
            ES.RUNNING,
            actor=principal.actor,
            message=f"Resumed by {principal.actor} before wave {wave} ({received} of {request.required} approvals)",
            values={"paused_before_wave": None, "status_reason": None},
        )
        if row is None:
            raise self._not_paused(conn, execution_id)
        waves.pass_gate(conn, execution_id, wave)
        next_wave = waves.get(conn, execution_id, wave)
        count = len(resources.for_wave(conn, execution_id, wave))
        granted = approval_view(approval_requests.latest(conn, execution_id, wave), grants)
        head = f"Resumed {execution_id}" if via_resume else message
        return row, f"{head}: wave {wave} '{next_wave.name}' starting, {count} resources", granted, True

    def _paused(self, conn: Connection, execution_id: str) -> Row:
        row = executions.get(conn, execution_id)
        if row is None:
            raise ApiError(404, "EXECUTION_NOT_FOUND", f"no execution {execution_id!r}")
        if row.status != ES.PAUSED:
            raise self._not_paused(conn, execution_id)
        return row

    @staticmethod
    def _not_paused(conn: Connection, execution_id: str) -> ApiError:
        status = executions.get(conn, execution_id).status
        return ApiError(409, "EXECUTION_NOT_PAUSED", f"cannot approve {execution_id}: it is {status}", status=status)

    def _publish(self, execution_id: str) -> None:
        try:
            self.publisher.advance_execution(execution_id)
        except Exception:  # the reconciler advances every RUNNING execution
            log.exception("[%s] publish failed; the reconciler will pick it up", execution_id)
