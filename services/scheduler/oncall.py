"""The reconciler's on-call duties: expire approvals past their timeout, flag waves past their RTO.

Both write a timeline entry (``approval.expired``, ``rto.at_risk``) in the unit of work of the change, so
the notifier hears of them through the outbox like of every other event.
"""

from __future__ import annotations

import logging

from shared.domain.approvals import OnTimeout, abort_reason, expired_message
from shared.domain.states import ExecutionStatus
from shared.messaging import AdvanceExecution
from shared.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)
ACTOR = "reconciler"


def expire_approvals(units: UnitOfWorkFactory) -> list[str]:
    """Expire due approval requests; returns the executions moved to CANCELLING (onTimeout: abort)."""
    aborted: list[str] = []
    with units() as uow:
        for request in uow.approval_requests.expire_due():
            on_timeout = OnTimeout(request.policy.get("onTimeout", OnTimeout.STAY_PAUSED))
            message = expired_message(request.wave_number, on_timeout)
            uow.events.append(
                request.execution_id,
                "approval.expired",
                ACTOR,
                message,
                wave_number=request.wave_number,
                detail={"onTimeout": on_timeout.value, "expiresAt": request.expires_at.isoformat()},
            )
            log.warning("[%s] %s", request.execution_id, message)
            if on_timeout is OnTimeout.ABORT:
                moved = uow.executions.move(
                    request.execution_id,
                    ExecutionStatus.PAUSED,
                    ExecutionStatus.CANCELLING,
                    actor=ACTOR,
                    message=f"Cancelling: {abort_reason(request.wave_number)}",
                    values={"status_reason": abort_reason(request.wave_number)},
                )
                if moved is not None:
                    uow.publish(AdvanceExecution(request.execution_id))
                    aborted.append(request.execution_id)
    return aborted


def flag_rto_at_risk(units: UnitOfWorkFactory) -> int:
    with units() as uow:
        flagged = uow.waves.flag_past_rto()
        for wave in flagged:
            uow.events.append(
                wave.execution_id,
                "rto.at_risk",
                ACTOR,
                f"Wave {wave.number} '{wave.name}' is past its RTO target of {wave.rto_target_minutes} min",
                wave_number=wave.number,
                detail={"rtoTargetMinutes": wave.rto_target_minutes},
            )
    return len(flagged)
