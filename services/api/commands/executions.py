"""The execution commands: start, pause, resume, cancel — each one unit of work, its message sent
after commit.

They speak the domain: plain inputs (a principal, ids, :class:`StartRequest`), an
:class:`ActionResult` back, :mod:`shared.domain.errors` raised. If a message is lost after the
commit, the scheduler's reconciler finds the execution in Postgres and re-drives it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import Row

from shared.domain.actions import RESOURCE_STAGE
from shared.domain.errors import (
    ExecutionNotCancellable,
    ExecutionNotFound,
    ExecutionNotPaused,
    ExecutionNotRunning,
    InvalidResources,
    NoResources,
    PlanAlreadyExecuting,
    PlanNotFound,
    ResourceInActiveExecution,
    SourceExecutionMismatch,
    SourceExecutionRequired,
    VersionConflict,
)
from shared.domain.failover import DEFAULT_FAILOVER, DRILL_FAILOVER, Failover
from shared.domain.failover import describe as describe_failover
from shared.domain.progress import Mode, Phase
from shared.domain.states import ExecutionStatus
from shared.messaging import AdvanceExecution, StartExecution
from shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .preflight import Preflight
from .resolve import ResolvedPlan, Resolver, tag_errors

if TYPE_CHECKING:
    from ..auth import Principal

log = logging.getLogger(__name__)
ES = ExecutionStatus
START_ATTEMPTS = 3  # resolutions per start when the plan or a group changes meanwhile
CANCEL_ATTEMPTS = 5  # the scheduler may move RUNNING -> PAUSED under a cancel: read again and retry


@dataclass(frozen=True)
class StartRequest:
    plan_id: str
    mode: Mode = Mode.DRILL
    phase: Phase = Phase.INSTANTIATE
    source_execution_id: str | None = None
    reason: str | None = None
    skip_invalid: bool = False
    force: bool = False  # start despite failed preflight checks (the view checks the permission)
    failover: Failover = DEFAULT_FAILOVER  # how a recovery moves Aurora writers (shared.domain.failover)
    allow_data_loss: bool = False

    def failover_options(self) -> dict:
        """What the execution stores: a drill always switches over and never loses data."""
        if self.mode is Mode.DRILL:
            return {"failover": DRILL_FAILOVER.value, "allow_data_loss": False}
        return {"failover": self.failover.value, "allow_data_loss": self.allow_data_loss}


@dataclass(frozen=True)
class ActionResult:
    """The execution after the action, and the one-line message a chat bot can post."""

    execution: Row
    message: str


def _wave_spec(wave) -> dict:
    """What an execution stores of a wave (from a resolved plan wave or an earlier execution's wave run)."""
    return {
        "number": wave.number,
        "name": wave.name,
        "pause_before": wave.pause_before,
        "on_failure": wave.on_failure,
        "timeout_seconds": wave.timeout_seconds,
        "rto_target_minutes": wave.rto_target_minutes,  # issue 10: the report's per-wave RTO
    }


def _ever_started(run: Row) -> bool:
    """Cleanup undoes every run that was started in any attempt: a retried run whose latest attempt never
    started (the retry was cancelled first) may still have left what an earlier attempt launched."""
    return run.started_at is not None or any(a.get("startedAt") for a in run.attempts or ())


def _accepted(
    principal: Principal, row: Row, waves: int, resources: int, *, following: str = "", note: str = ""
) -> ActionResult:
    log.info(
        "[%s] accepted: %s %s of plan %s%s by %s", row.id, row.mode, row.phase, row.plan_id, following, principal.actor
    )
    return ActionResult(
        row,
        f"Started {row.id} ({row.mode}, {row.phase}) of plan '{row.plan_name}'{following}: "
        f"{waves} waves, {resources} resources{note}",
    )


class ExecutionCommands:
    def __init__(self, uow: UnitOfWorkFactory, resolver: Resolver, preflight: Preflight):
        self.uow = uow
        self.resolver = resolver
        self.preflight = preflight

    def start(self, principal: Principal, request: StartRequest) -> ActionResult:
        """Resolve the plan now, then create the execution, its waves, resource runs and resource locks in
        one transaction; publish after commit. Postgres settles races: the partial unique index on active
        executions of a plan (:class:`PlanAlreadyExecuting`) and the resource locks' primary key
        (:class:`ResourceInActiveExecution`)."""
        with self.uow() as uow:  # refuse an obvious duplicate before asking AWS
            active = uow.executions.active_for_plan(request.plan_id)
        if active is not None:
            raise PlanAlreadyExecuting(request.plan_id, active)
        if request.phase is not Phase.INSTANTIATE:
            return self._start_phase(principal, request)
        for _ in range(START_ATTEMPTS):
            resolved = self.resolver.plan(request.plan_id)
            self._check_resolution(resolved, request.skip_invalid)
            forced = self.preflight.gate(resolved, force=request.force)
            row = self._create(principal, request, resolved, forced)
            if row is not None:
                break
        else:
            raise VersionConflict(
                f"plan {request.plan_id} or its protection groups kept changing while starting; start it again"
            )
        skipped = f", {len(resolved.invalid)} invalid skipped" if resolved.invalid else ""
        return _accepted(principal, row, len(resolved.waves), len(resolved.resources), note=skipped)

    @staticmethod
    def _check_resolution(resolved: ResolvedPlan, skip_invalid: bool) -> None:
        if resolved.problems:
            raise resolved.problems[0]
        invalid = [
            {"arn": f.arn, "problem": "; ".join(e.message for e in f.evaluation.errors), "errors": tag_errors(f)}
            for f in resolved.invalid
        ]
        if invalid and not skip_invalid:
            raise InvalidResources(invalid)
        empty = resolved.nothing_to_recover()
        if empty is not None:
            raise empty

    def _create(
        self, principal: Principal, request: StartRequest, resolved: ResolvedPlan, forced: list[dict] | None = None
    ) -> Row | None:
        """The start transaction; None when the plan or a group changed since it was resolved."""
        with self.uow() as uow:
            plan = uow.plans.get(resolved.plan_id, share=True)
            if plan is None:
                raise PlanNotFound(resolved.plan_id, field="planId")
            current = uow.groups.get_many(sorted(resolved.group_versions), share=True)
            if (
                plan.version != resolved.plan_version
                or {gid: row.version for gid, row in current.items()} != resolved.group_versions
            ):
                return None
            row = self._insert(
                uow,
                principal,
                request,
                plan,
                [_wave_spec(w) for w in resolved.waves],
                [
                    {"wave_number": w.number, "arn": f.arn, "adapter": f.evaluation.adapter}
                    for w in resolved.waves
                    for f in w.resources
                ]
                + [run for w in resolved.waves for run in w.action_runs()],
            )
            if resolved.invalid:  # the timeline says who skipped what
                uow.events.append(
                    row.id,
                    "execution.invalid_skipped",
                    principal.actor,
                    f"Started with skipInvalid: {len(resolved.invalid)} invalid resource(s) left out",
                    detail={"skippedInvalid": [{"arn": f.arn, "errors": tag_errors(f)} for f in resolved.invalid]},
                )
            if forced:  # and who started it past failed preflight checks
                uow.events.append(
                    row.id,
                    "execution.preflight_forced",
                    principal.actor,
                    f"Started with force: {len(forced)} failed preflight check(s) overridden",
                    detail={"checks": forced},
                )
        return row

    def pause(self, principal: Principal, execution_id: str, comment: str | None = None) -> ActionResult:
        """RUNNING: park it once the current wave finishes; ``comment`` goes on the timeline with who asked."""
        with self.uow() as uow:
            current = existing(uow, execution_id)
            if current.status != ES.RUNNING or not uow.executions.set_fields(
                execution_id, ES.RUNNING, pause_requested=True
            ):
                raise ExecutionNotRunning(execution_id, existing(uow, execution_id).status)
            uow.events.append(
                execution_id,
                "execution.pause_requested",
                principal.actor,
                "Pause requested: the execution stops after the current wave" + quoted_comment(comment),
                detail=_comment_detail(comment),
            )
            row = uow.executions.get(execution_id)
        wave = f"wave {row.current_wave}" if row.current_wave else "the current wave"
        return ActionResult(row, f"Pause requested for {execution_id}: it will stop after {wave} finishes")

    def resume(self, principal: Principal, execution_id: str) -> ActionResult:
        """PAUSED -> RUNNING; the gate of the wave it paused before is passed, and the scheduler is told to
        advance (it starts that wave)."""
        with self.uow() as uow:
            current = existing(uow, execution_id)
            before = current.paused_before_wave
            row = uow.executions.move(
                execution_id,
                ES.PAUSED,
                ES.RUNNING,
                actor=principal.actor,
                message=f"Resumed by {principal.actor}" + (f" before wave {before}" if before else ""),
                values={"paused_before_wave": None, "status_reason": None},
            )
            if row is None:
                raise ExecutionNotPaused(execution_id, existing(uow, execution_id).status)
            next_wave = uow.waves.get(execution_id, before) if before else None
            if next_wave is not None:
                uow.waves.pass_gate(execution_id, before)
                count = len(uow.resources.for_wave(execution_id, before, RESOURCE_STAGE))  # not its actions
            uow.publish(AdvanceExecution(execution_id))
        if next_wave is None:
            return ActionResult(row, f"Resumed {execution_id}")
        return ActionResult(
            row, f"Resumed {execution_id}: wave {before} '{next_wave.name}' starting, {count} resources"
        )

    def cancel(self, principal: Principal, execution_id: str, comment: str | None = None) -> ActionResult:
        """PENDING, RUNNING or PAUSED -> CANCELLING; ``comment`` goes on the timeline with who asked."""
        for _ in range(CANCEL_ATTEMPTS):
            with self.uow() as uow:
                current = existing(uow, execution_id)
                if current.status not in (ES.PENDING, ES.RUNNING, ES.PAUSED):
                    raise ExecutionNotCancellable(execution_id, current.status)
                row = uow.executions.move(
                    execution_id,
                    ES(current.status),
                    ES.CANCELLING,
                    actor=principal.actor,
                    message=f"Cancel requested by {principal.actor}" + quoted_comment(comment),
                    values={"status_reason": None},  # not a pause reason: the cancel's reason is "cancelled"
                    detail=_comment_detail(comment),
                )
                if row is not None:
                    uow.publish(AdvanceExecution(execution_id))
                    break
        else:
            with self.uow() as uow:
                raise ExecutionNotCancellable(execution_id, existing(uow, execution_id).status)
        return ActionResult(
            row, f"Cancelling {execution_id}: resources in flight finish, waves not yet started will not run"
        )

    # --- helpers ---------------------------------------------------------------------------------

    def _start_phase(self, principal: Principal, request: StartRequest) -> ActionResult:
        """activate / cleanup / replicate run over the resources of the execution they follow (its
        `sourceExecutionId`), wave by wave; cleanup runs the waves in descending order. Activate and
        replicate take the resources that succeeded there, cleanup every resource that was started."""
        if request.source_execution_id is None:
            raise SourceExecutionRequired(request.phase.value)
        with self.uow() as uow:
            plan = uow.plans.get(request.plan_id, share=True)
            if plan is None:
                raise PlanNotFound(request.plan_id, field="planId")
            source = self._source(uow, request)
            wave_specs = [_wave_spec(w) for w in uow.waves.list_for(source.id)]
            wanted = _ever_started if request.phase is Phase.CLEANUP else (lambda r: r.status == "SUCCEEDED")
            earlier = uow.resources.list_for(source.id)
            runs = [
                {"wave_number": r.wave_number, "arn": r.arn, "adapter": r.adapter}
                for r in earlier
                if r.action is None and wanted(r)
            ]
            # a phase runs the waves' actions again: they are told the phase (docs/architecture.md, "Wave actions")
            actions = [
                {"wave_number": r.wave_number, "arn": r.arn, "adapter": r.adapter, "stage": r.stage, "action": r.action}
                for r in earlier
                if r.action is not None
            ]
            if not runs:
                raise NoResources(
                    f"sourceExecutionId: {source.id} has no resource a {request.phase.value} applies to",
                    field="sourceExecutionId",
                )
            phase_request = replace(request, mode=Mode(source.mode))
            row = self._insert(uow, principal, phase_request, plan, wave_specs, runs + actions)
        return _accepted(principal, row, len(wave_specs), len(runs), following=f" following {source.id}")

    @staticmethod
    def _source(uow: UnitOfWork, request: StartRequest) -> Row:
        source = uow.executions.get(request.source_execution_id)
        if source is None:
            raise ExecutionNotFound(request.source_execution_id, field="sourceExecutionId")
        if source.plan_id != request.plan_id:
            raise SourceExecutionMismatch(source.id, source.plan_id, request.plan_id)
        return source

    @staticmethod
    def _insert(
        uow: UnitOfWork,
        principal: Principal,
        request: StartRequest,
        plan: Row,
        wave_specs: list[dict],
        runs: list[dict],
    ) -> Row:
        """Write the execution, its waves, resource runs and resource locks (all or nothing), and queue
        the start message."""
        row = uow.executions.create(
            plan_id=plan.id,
            plan_name=plan.name,
            mode=request.mode.value,
            phase=request.phase.value,
            created_by=principal.actor,
            reason=request.reason,
            source_execution_id=request.source_execution_id,
            **request.failover_options(),
        )
        if row is None:
            raise PlanAlreadyExecuting(plan.id, uow.executions.active_for_plan(plan.id))
        if request.mode is Mode.RECOVERY and request.phase is Phase.INSTANTIATE:  # the timeline says who allowed what
            plan_of = describe_failover(Failover(row.failover), row.allow_data_loss)
            uow.events.append(
                row.id,
                "execution.failover_options",
                principal.actor,
                f"Aurora failover '{row.failover}' requested by {principal.actor}: {plan_of}",
                detail={"failover": row.failover, "allowDataLoss": row.allow_data_loss},
            )
        uow.waves.insert_many(row.id, wave_specs)
        uow.resources.insert_many(row.id, runs)
        taken = uow.resource_locks.acquire(row.id, (r["arn"] for r in runs if r.get("action") is None))
        if taken:  # raising rolls the whole start back
            raise ResourceInActiveExecution(taken)
        uow.publish(StartExecution(row.id))
        return row


def quoted_comment(comment: str | None) -> str:
    """How a timeline message carries the comment its actor gave (pause, cancel, retry, approve)."""
    return f' — "{comment}"' if comment else ""


def _comment_detail(comment: str | None) -> dict | None:
    return {"comment": comment} if comment else None


def existing(uow: UnitOfWork, execution_id: str) -> Row:
    """The execution's row; ExecutionNotFound (404) when there is none."""
    row = uow.executions.get(execution_id)
    if row is None:
        raise ExecutionNotFound(execution_id)
    return row
