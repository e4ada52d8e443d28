"""The reconciler's on-call duties: expire approvals past their timeout, flag waves past their RTO.

Both write a timeline entry (``approval.expired``, ``rto.at_risk``) in the transaction of the change, so
the notifier hears of them through the outbox like of every other event.
"""

from __future__ import annotations

import logging

from shared.db.engine import Database
from shared.domain.approvals import OnTimeout, abort_reason, expired_message
from shared.domain.states import ExecutionStatus
from shared.store import approval_requests, events, executions, waves

log = logging.getLogger(__name__)
ACTOR = "reconciler"


def expire_approvals(db: Database) -> list[str]:
    """Expire due approval requests; returns the executions moved to CANCELLING (onTimeout: abort)."""
    aborted: list[str] = []
    with db.engine.begin() as conn:
        for request in approval_requests.expire_due(conn):
            on_timeout = OnTimeout(request.policy.get("onTimeout", OnTimeout.STAY_PAUSED))
            message = expired_message(request.wave_number, on_timeout)
            events.append(
                conn,
                request.execution_id,
                "approval.expired",
                ACTOR,
                message,
                wave_number=request.wave_number,
                detail={"onTimeout": on_timeout.value, "expiresAt": request.expires_at.isoformat()},
            )
            log.warning("[%s] %s", request.execution_id, message)
            if on_timeout is OnTimeout.ABORT:
                moved = executions.move(
                    conn,
                    request.execution_id,
                    ExecutionStatus.PAUSED,
                    ExecutionStatus.CANCELLING,
                    actor=ACTOR,
                    message=f"Cancelling: {abort_reason(request.wave_number)}",
                    values={"status_reason": abort_reason(request.wave_number)},
                )
                if moved is not None:
                    aborted.append(request.execution_id)
    return aborted


def flag_rto_at_risk(db: Database) -> int:
    with db.engine.begin() as conn:
        flagged = waves.flag_past_rto(conn)
        for wave in flagged:
            events.append(
                conn,
                wave.execution_id,
                "rto.at_risk",
                ACTOR,
                f"Wave {wave.number} '{wave.name}' is past its RTO target of {wave.rto_target_minutes} min",
                wave_number=wave.number,
                detail={"rtoTargetMinutes": wave.rto_target_minutes},
            )
    return len(flagged)
