"""Retry and skip (issue 12), pure: which runs get a new attempt, which waves run again, and the
attempt history a resource run shows.

A retry gives every FAILED or TIMED_OUT run (all, or the listed ARNs) a new attempt: the run goes back
to PENDING with ``attempt + 1``, its last attempt kept in ``attempts``. The waves holding those runs go
back to PENDING, and so do the waves an ``abort`` SKIPPED (their CANCELLED runs PENDING again, a first
attempt: they never ran), and the later stages of a retried wave its ``abort`` cancelled (wave actions);
``next_step`` then runs them in their order, and a wave start dispatches only its PENDING runs, so a
SUCCEEDED run is never started again. Gates already passed stay passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain.errors import (
    ExecutionNotRetryable,
    NothingToRetry,
    ResourceNotFailed,
    ResourceNotInExecution,
)
from shared.domain.states import (
    EXECUTION_RETRYABLE,
    RESOURCE_FAILED,
    ExecutionStatus,
    ResourceStatus,
    WaveStatus,
)

RESOURCES_FIELD = "resources"


@dataclass(frozen=True)
class RunRef:
    """What the rules need of a resource run."""

    id: int
    wave_number: int
    arn: str
    status: ResourceStatus


@dataclass(frozen=True)
class RetryPlan:
    retried: tuple[RunRef, ...]  # FAILED/TIMED_OUT runs that get a new attempt
    reopened: tuple[RunRef, ...]  # CANCELLED runs of waves an abort skipped: PENDING again
    waves: tuple[tuple[int, WaveStatus], ...]  # (number, current status) of the waves going back to PENDING

    @property
    def run_ids(self) -> list[int]:
        return [run.id for run in (*self.retried, *self.reopened)]

    @property
    def arns(self) -> list[str]:
        return [run.arn for run in (*self.retried, *self.reopened)]


def plan_retry(
    execution_id: str,
    status: ExecutionStatus,
    waves: Mapping[int, WaveStatus],
    runs: Sequence[RunRef],
    wanted: Iterable[str] | None = None,
) -> RetryPlan:
    """The retry of an execution in ``status`` with these waves and runs; ``wanted`` limits it to ARNs.

    Raises ExecutionNotRetryable (not PAUSED / COMPLETED_WITH_FAILURES / FAILED), ResourceNotInExecution
    (a listed ARN the execution does not have), ResourceNotFailed (a listed run that did not fail) and
    NothingToRetry (no run qualifies)."""
    if status not in EXECUTION_RETRYABLE:
        raise ExecutionNotRetryable(execution_id, status.value)
    by_arn = {run.arn: run for run in runs}
    if wanted is None:
        retried = [run for run in runs if run.status in RESOURCE_FAILED]
    else:
        listed = list(dict.fromkeys(wanted))
        unknown = [arn for arn in listed if arn not in by_arn]
        if unknown:
            raise ResourceNotInExecution(execution_id, unknown, field=RESOURCES_FIELD)
        not_failed = [by_arn[arn] for arn in listed if by_arn[arn].status not in RESOURCE_FAILED]
        if not_failed:
            raise ResourceNotFailed(not_failed[0].arn, not_failed[0].status.value, field=RESOURCES_FIELD)
        retried = [by_arn[arn] for arn in listed]
    if not retried:
        raise NothingToRetry(execution_id)
    # the waves an abort skipped, and the later stages a retried wave's abort cancelled (its actions)
    again = {n for n, s in waves.items() if s is WaveStatus.SKIPPED} | {run.wave_number for run in retried}
    reopened = [r for r in runs if r.wave_number in again and r.status is ResourceStatus.CANCELLED]
    numbers = {run.wave_number for run in retried} | {run.wave_number for run in reopened}
    return RetryPlan(
        retried=tuple(retried),
        reopened=tuple(reopened),
        waves=tuple((n, waves[n]) for n in sorted(numbers)),
    )


def check_skip(arn: str, status: ResourceStatus) -> None:
    """Only a FAILED or TIMED_OUT run can be skipped."""
    if status not in RESOURCE_FAILED:
        raise ResourceNotFailed(arn, status.value, field="arn")


def attempt_record(
    attempt: int,
    status: str,
    error: str | None,
    operation_id: str | None,
    started_at: datetime | str | None,
    finished_at: datetime | str | None,
) -> dict[str, Any]:
    """One attempt as the API and the report show it (camelCase, the contract of ``attempts``)."""
    return {
        "attempt": attempt,
        "status": status,
        "error": error,
        "operationId": operation_id,
        "startedAt": started_at.isoformat() if isinstance(started_at, datetime) else started_at,
        "finishedAt": finished_at.isoformat() if isinstance(finished_at, datetime) else finished_at,
    }


def attempts_of(run: Any) -> list[dict[str, Any]]:
    """Every attempt of a resource run, oldest first: the stored earlier ones, then the current one."""
    current = attempt_record(
        getattr(run, "attempt", None) or 1,
        run.status,
        getattr(run, "error", None),
        getattr(run, "operation_id", None),
        getattr(run, "started_at", None),
        getattr(run, "finished_at", None),
    )
    return [*(getattr(run, "attempts", None) or []), current]
