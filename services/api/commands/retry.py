"""Retry and skip (issue 12): give failed resources a new attempt, or accept one with a reason.

`RetryCommands.retry` is the one service function that retries (the API's ``POST .../retry``, the CLI
and web console through it, and any later caller such as a data-loss pause): it takes an actor name,
not a principal, so a scheduler-side caller can use it too. One unit of work: a guarded write locks the
execution row while it is still retryable (of concurrent retries exactly one goes on; the others then
see it RUNNING and get 409), then the rules of :mod:`shared.domain.retry` decide which runs
get a new attempt and which waves run again; the open approval request of the pause it leaves is
superseded; `AdvanceExecution` goes out after the commit and the scheduler runs the waves again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.domain.errors import (
    ExecutionNotRetryable,
    PlanAlreadyExecuting,
    ResourceInActiveExecution,
    ResourceNotInExecution,
    SkipNeedsPause,
    VersionConflict,
)
from shared.domain.progress import wave_outcome
from shared.domain.retry import RunRef, check_skip, plan_retry
from shared.domain.states import EXECUTION_RETRYABLE, EXECUTION_TERMINAL, ExecutionStatus, ResourceStatus, WaveStatus
from shared.messaging import AdvanceExecution
from shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .executions import ActionResult, existing, quoted_comment

if TYPE_CHECKING:
    from ..auth import Principal

log = logging.getLogger(__name__)
ES, WS = ExecutionStatus, WaveStatus


@dataclass(frozen=True)
class RetryOptions:
    """Which runs to retry — `arns` or resource `run_ids` (neither: every FAILED or TIMED_OUT run) — and why."""

    arns: Sequence[str] | None = None
    comment: str | None = None
    run_ids: Sequence[int] | None = None  # for callers that hold resource run ids (e.g. a scheduler-side pause)


class RetryCommands:
    def __init__(self, uow: UnitOfWorkFactory):
        self.uow = uow

    def retry_as(self, principal: Principal, execution_id: str, options: RetryOptions) -> ActionResult:
        return self.retry(execution_id, principal.actor, options)

    def retry(self, execution_id: str, actor: str, options: RetryOptions = RetryOptions()) -> ActionResult:
        """Give the failed runs (all, or `options.arns`) a new attempt and run their waves again."""
        with self.uow() as uow:
            return self.retry_in(uow, execution_id, actor, options)

    @staticmethod
    def retry_in(uow: UnitOfWork, execution_id: str, actor: str, options: RetryOptions) -> ActionResult:
        """:meth:`retry` inside a caller's unit of work (a data loss approval retries in its own)."""
        current = existing(uow, execution_id)
        status = ES(current.status)
        if status not in EXECUTION_RETRYABLE:
            raise ExecutionNotRetryable(execution_id, status.value)
        # Lock the execution row while it is still `status` before reading anything: of concurrent
        # retries (or a retry and a skip or resume) one goes on, the others then find it changed.
        if not uow.executions.set_fields(execution_id, status):
            raise ExecutionNotRetryable(execution_id, existing(uow, execution_id).status)
        runs = [
            RunRef(r.id, r.wave_number, r.arn, ResourceStatus(r.status))
            for r in uow.resources.list_for(execution_id)
        ]
        waves = {w.number: WS(w.status) for w in uow.waves.list_for(execution_id)}
        plan = plan_retry(execution_id, status, waves, runs, _wanted(execution_id, runs, options))
        listed = [run.arn for run in plan.retried]
        row = uow.executions.reopen(
            execution_id,
            status,
            actor=actor,
            message=f"Retried by {actor}: {len(listed)} resource(s) get a new attempt{quoted_comment(options.comment)}",
            detail={"resources": listed, "comment": options.comment, "from": status.value},
        )
        if row is None:  # the row is ours, so only the plan's partial unique index refuses
            raise PlanAlreadyExecuting(current.plan_id, uow.executions.active_for_plan(current.plan_id))
        if status in EXECUTION_TERMINAL:  # its resource locks went with the terminal move
            taken = uow.resource_locks.acquire(execution_id, plan.arns)
            if taken:
                raise ResourceInActiveExecution(taken)
        uow.approval_requests.supersede(execution_id)
        for number, wave_status in plan.waves:
            if (
                uow.waves.move(
                    execution_id,
                    number,
                    wave_status,
                    WS.PENDING,
                    actor=actor,
                    message=f"Wave {number} to run again",
                )
                is None
            ):
                raise VersionConflict(f"wave {number} of {execution_id} changed meanwhile; retry again")
        moved = uow.resources.new_attempts([run.id for run in plan.retried])
        reopened = uow.resources.reopen_cancelled([run.id for run in plan.reopened])
        if len(moved) != len(plan.retried) or len(reopened) != len(plan.reopened):
            raise VersionConflict(f"resource runs of {execution_id} changed meanwhile; retry again")
        uow.launch_batches.forget_members(plan.run_ids)
        uow.publish(AdvanceExecution(execution_id))
        numbers = ", ".join(str(n) for n, _ in plan.waves)
        log.info("[%s] retried by %s: %d runs, waves %s", execution_id, actor, len(listed), numbers)
        message = f"Retrying {execution_id}: {len(listed)} failed resource(s) get a new attempt; waves {numbers} run"
        return ActionResult(row, message)

    def skip(self, principal: Principal, execution_id: str, arn: str, reason: str) -> ActionResult:
        """A FAILED or TIMED_OUT run of a PAUSED execution becomes SKIPPED (accepted) with the reason; its
        wave's outcome is judged again. Resume or approve then continues."""
        with self.uow() as uow:
            current = existing(uow, execution_id)
            # the guard locks the execution row while PAUSED: a concurrent retry or resume waits for us
            if current.status != ES.PAUSED or not uow.executions.set_fields(execution_id, ES.PAUSED):
                raise SkipNeedsPause(execution_id, existing(uow, execution_id).status)
            run = uow.resources.by_arn(execution_id, arn)
            if run is None:
                raise ResourceNotInExecution(execution_id, [arn], field="arn")
            check_skip(arn, ResourceStatus(run.status))
            moved = uow.resources.move(
                run.id,
                ResourceStatus(run.status),
                ResourceStatus.SKIPPED,
                actor=principal.actor,
                values={"skip_reason": reason},
                message=f"{arn} skipped by {principal.actor}: {reason}",
                detail={"reason": reason, "by": principal.actor, "was": run.status},
            )
            if moved is None:
                raise VersionConflict(f"{arn} changed meanwhile; read the execution again")
            self._judge_wave_again(uow, execution_id, run.wave_number, principal.actor)
            row = uow.executions.get(execution_id)
        log.info("[%s] %s skipped by %s: %s", execution_id, arn, principal.actor, reason)
        return ActionResult(row, f"Skipped {arn} in {execution_id}: {reason}; resume or approve to continue")

    @staticmethod
    def _judge_wave_again(uow: UnitOfWork, execution_id: str, number: int, actor: str) -> None:
        """A skipped run counts as accepted: the finished wave's outcome may improve (FAILED ->
        COMPLETED_WITH_FAILURES -> SUCCEEDED)."""
        snapshot = uow.executions.snapshot(execution_id)
        wave = next(w for w in snapshot.waves if w.number == number)
        outcome = wave_outcome(wave)
        if outcome is wave.status or wave.status not in (WS.FAILED, WS.COMPLETED_WITH_FAILURES):
            return
        message = f"Wave {number} {outcome.value} after a skip"
        if uow.waves.move(execution_id, number, wave.status, outcome, actor=actor, message=message) is None:
            raise VersionConflict(f"wave {number} of {execution_id} changed meanwhile")


def _wanted(execution_id: str, runs: list[RunRef], options: RetryOptions) -> list[str] | None:
    """The ARNs to retry: `options.arns`, plus those of `options.run_ids`; None for every failed run."""
    if options.arns is None and options.run_ids is None:
        return None
    by_id = {run.id: run.arn for run in runs}
    unknown = [str(i) for i in options.run_ids or () if i not in by_id]
    if unknown:
        raise ResourceNotInExecution(execution_id, unknown, field="runIds")
    return [*(options.arns or ()), *(by_id[i] for i in options.run_ids or ())]


