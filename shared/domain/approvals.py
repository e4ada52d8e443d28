"""Approval rules of a gate: how many approvals, from whom, for how long. Pure: no I/O.

A plan's ``approvals`` policy is frozen into each approval request when its gate opens, so editing the
plan never changes a request already waiting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from shared.domain.errors import DomainError
from shared.domain.progress import Mode


class OnTimeout(StrEnum):
    ABORT = "abort"
    STAY_PAUSED = "stay-paused"


class RequestStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"  # closed by a retry of the paused execution


@dataclass(frozen=True)
class ApprovalPolicy:
    required: int = 1
    recovery_required: int = 1  # the two-person rule for a real failover: recovery mode only
    distinct_approvers: bool = True
    starter_may_approve: bool = True
    timeout_seconds: int | None = None
    on_timeout: OnTimeout = OnTimeout.STAY_PAUSED

    def required_for(self, mode: Mode | str) -> int:
        return self.recovery_required if Mode(mode) is Mode.RECOVERY else self.required

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ApprovalPolicy:
        data = data or {}
        return cls(
            required=data.get("required", 1),
            recovery_required=data.get("recoveryRequired", 1),
            distinct_approvers=data.get("distinctApprovers", True),
            starter_may_approve=data.get("starterMayApprove", True),
            timeout_seconds=data.get("timeoutSeconds"),
            on_timeout=OnTimeout(data.get("onTimeout", OnTimeout.STAY_PAUSED)),
        )

    def to_json(self) -> dict[str, Any]:
        plain = asdict(self)
        return {
            "required": plain["required"],
            "recoveryRequired": plain["recovery_required"],
            "distinctApprovers": plain["distinct_approvers"],
            "starterMayApprove": plain["starter_may_approve"],
            "timeoutSeconds": plain["timeout_seconds"],
            "onTimeout": self.on_timeout.value,
        }


class ApproverIsStarter(DomainError):
    def __init__(self, approver: str, wave: int) -> None:
        super().__init__(
            f"{approver} started this execution and its plan wants someone else to approve wave {wave}", wave=wave
        )


class AlreadyApproved(DomainError):
    def __init__(self, approver: str, wave: int) -> None:
        super().__init__(f"{approver} has already approved wave {wave}; another approver is needed", wave=wave)


def check_grant(policy: ApprovalPolicy, *, approver: str, is_starter: bool, earlier: Sequence[str], wave: int) -> None:
    """Raise when `approver` may not add a grant to a request with `earlier` approvers."""
    if is_starter and not policy.starter_may_approve:
        raise ApproverIsStarter(approver, wave)
    if policy.distinct_approvers and approver in earlier:
        raise AlreadyApproved(approver, wave)


def progress_message(execution_id: str, wave: int, approver: str, received: int, required: int) -> str:
    """`Approved ex-7 wave 2 by alice (1 of 2)` and what is still missing."""
    head = f"Approved {execution_id} wave {wave} by {approver} ({received} of {required})"
    missing = required - received
    if missing <= 0:
        return head
    more = "one more" if missing == 1 else f"{missing} more"
    return f"{head}: waiting for {more}"


def expired_message(wave: int, on_timeout: OnTimeout) -> str:
    then = "execution cancelled" if on_timeout is OnTimeout.ABORT else "execution stays paused"
    return f"approval for wave {wave} timed out: {then}"


def abort_reason(wave: int) -> str:
    return f"approval for wave {wave} timed out"
