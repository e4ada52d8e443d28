"""The API's execution commands: start, pause, resume, cancel — each one transaction, then a publish.

The publish happens only after commit; if it is lost, the scheduler's reconciler finds the execution
in Postgres and re-drives it.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError

from shared.db.engine import Database
from shared.domain.progress import Mode, Phase
from shared.domain.states import ExecutionStatus
from shared.messaging import Publisher
from shared.store import events, executions, groups, plans, resource_locks, resources, waves

from ..auth import Principal
from ..errors import ApiError
from ..schemas import ExecutionStart
from .resolve import ResolvedPlan, Resolver, tag_errors

log = logging.getLogger(__name__)
ES = ExecutionStatus
START_ATTEMPTS = 3  # resolutions per start when the plan or a group changes meanwhile


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


class ExecutionCommands:
    def __init__(self, db: Database, publisher: Publisher, resolver: Resolver):
        self.db = db
        self.publisher = publisher
        self.resolver = resolver

    def start(self, principal: Principal, request: ExecutionStart) -> tuple[Row, str]:
        """Resolve the plan now, then create the execution, its resource runs and resource locks in one
        transaction; publish after commit. Postgres settles races: the partial unique index on active
        executions of a plan (``PLAN_ALREADY_EXECUTING``) and the resource locks' primary key
        (``RESOURCE_IN_ACTIVE_EXECUTION``)."""
        with self.db.engine.connect() as conn:  # refuse an obvious duplicate before asking AWS
            active = executions.active_for_plan(conn, request.plan_id)
        if active is not None:
            raise self._already_executing(request.plan_id, active)
        if request.phase is not Phase.INSTANTIATE:
            return self._start_phase(principal, request)
        for _ in range(START_ATTEMPTS):
            resolved = self.resolver.plan(request.plan_id)
            self._check_resolution(resolved, request.skip_invalid)
            row = self._create(principal, request, resolved)
            if row is not None:
                break
        else:
            raise ApiError(
                409,
                "VERSION_CONFLICT",
                f"plan {request.plan_id} or its protection groups kept changing while starting; start it again",
            )
        self._publish(self.publisher.start_execution, row.id)
        log.info(
            "[%s] accepted: %s %s of plan %s by %s", row.id, request.mode, request.phase, row.plan_id, principal.actor
        )
        total = len(resolved.resources)
        skipped = f", {len(resolved.invalid)} invalid skipped" if resolved.invalid else ""
        message = (
            f"Started {row.id} ({request.mode.value}, {request.phase.value}) of plan '{row.plan_name}': "
            f"{len(resolved.waves)} waves, {total} resources{skipped}"
        )
        return row, message

    @staticmethod
    def _check_resolution(resolved: ResolvedPlan, skip_invalid: bool) -> None:
        if resolved.problems:
            raise resolved.problems[0].error()
        invalid = [
            {"arn": f.arn, "problem": "; ".join(e.message for e in f.evaluation.errors), "errors": tag_errors(f)}
            for f in resolved.invalid
        ]
        if invalid and not skip_invalid:
            raise ApiError(
                400,
                "INVALID_RESOURCES",
                f"{len(invalid)} resource(s) cannot be recovered, e.g. {invalid[0]['problem']}; "
                f"fix them or send skipInvalid: true",
                invalid=invalid,
            )
        empty = resolved.nothing_to_recover()
        if empty is not None:
            raise empty.error()

    def _create(self, principal: Principal, request: ExecutionStart, resolved: ResolvedPlan) -> Row | None:
        """The start transaction; None when the plan or a group changed since it was resolved."""
        with self.db.engine.begin() as conn:
            plan = plans.get(conn, resolved.plan_id, share=True)
            if plan is None:
                raise ApiError(404, "PLAN_NOT_FOUND", f"planId: no recovery plan {resolved.plan_id!r}", field="planId")
            current = groups.get_many(conn, sorted(resolved.group_versions), share=True)
            if (
                plan.version != resolved.plan_version
                or {gid: row.version for gid, row in current.items()} != resolved.group_versions
            ):
                return None
            row = self._insert(
                conn,
                principal,
                request,
                plan,
                [_wave_spec(w) for w in resolved.waves],
                [
                    {"wave_number": w.number, "arn": f.arn, "adapter": f.evaluation.adapter}
                    for w in resolved.waves
                    for f in w.resources
                ],
            )
            if resolved.invalid:  # the timeline says who skipped what
                events.append(
                    conn,
                    row.id,
                    "execution.invalid_skipped",
                    principal.actor,
                    f"Started with skipInvalid: {len(resolved.invalid)} invalid resource(s) left out",
                    detail={"skippedInvalid": [{"arn": f.arn, "errors": tag_errors(f)} for f in resolved.invalid]},
                )
        return row

    @staticmethod
    def _already_executing(plan_id: str, other: str | None) -> ApiError:
        return ApiError(
            409, "PLAN_ALREADY_EXECUTING", f"plan {plan_id} is already executing as {other}", executionId=other
        )

    def pause(self, principal: Principal, execution_id: str) -> tuple[Row, str]:
        with self.db.engine.begin() as conn:
            current = self._get(conn, execution_id)
            if current.status != ES.RUNNING or not executions.set_fields(
                conn, execution_id, ES.RUNNING, pause_requested=True
            ):
                raise self._conflict(conn, execution_id, "EXECUTION_NOT_RUNNING", "pause")
            events.append(
                conn,
                execution_id,
                "execution.pause_requested",
                principal.actor,
                "Pause requested: the execution stops after the current wave",
            )
            row = executions.get(conn, execution_id)
        wave = f"wave {row.current_wave}" if row.current_wave else "the current wave"
        return row, f"Pause requested for {execution_id}: it will stop after {wave} finishes"

    def resume(self, principal: Principal, execution_id: str) -> tuple[Row, str]:
        with self.db.engine.begin() as conn:
            current = self._get(conn, execution_id)
            before = current.paused_before_wave
            row = executions.move(
                conn,
                execution_id,
                ES.PAUSED,
                ES.RUNNING,
                actor=principal.actor,
                message=f"Resumed by {principal.actor}" + (f" before wave {before}" if before else ""),
                values={"paused_before_wave": None, "status_reason": None},
            )
            if row is None:
                raise self._conflict(conn, execution_id, "EXECUTION_NOT_PAUSED", "resume")
            next_wave = waves.get(conn, execution_id, before) if before else None
            if next_wave is not None:
                waves.pass_gate(conn, execution_id, before)
                count = len(resources.for_wave(conn, execution_id, before))
        self._publish(self.publisher.advance_execution, execution_id)
        if next_wave is None:
            return row, f"Resumed {execution_id}"
        return row, f"Resumed {execution_id}: wave {before} '{next_wave.name}' starting, {count} resources"

    def cancel(self, principal: Principal, execution_id: str) -> tuple[Row, str]:
        for _ in range(5):  # the scheduler may move RUNNING -> PAUSED under us: read again and retry
            row = self._try_cancel(principal, execution_id)
            if row is not None:
                break
        else:
            with self.db.engine.connect() as conn:
                raise self._conflict(conn, execution_id, "EXECUTION_NOT_CANCELLABLE", "cancel")
        self._publish(self.publisher.advance_execution, execution_id)
        return row, f"Cancelling {execution_id}: resources in flight finish, waves not yet started will not run"

    def _try_cancel(self, principal: Principal, execution_id: str) -> Row | None:
        with self.db.engine.begin() as conn:
            current = self._get(conn, execution_id)
            if current.status not in (ES.PENDING, ES.RUNNING, ES.PAUSED):
                raise self._conflict(conn, execution_id, "EXECUTION_NOT_CANCELLABLE", "cancel")
            return executions.move(
                conn,
                execution_id,
                ES(current.status),
                ES.CANCELLING,
                actor=principal.actor,
                message=f"Cancel requested by {principal.actor}",
                values={"status_reason": None},  # not a pause reason: the cancel's reason is "cancelled"
            )

    # --- helpers ---------------------------------------------------------------------------------

    def _start_phase(self, principal: Principal, request: ExecutionStart) -> tuple[Row, str]:
        """activate / cleanup / replicate run over the resources of the execution they follow (its
        `sourceExecutionId`), wave by wave; cleanup runs the waves in descending order. Activate and
        replicate take the resources that succeeded there, cleanup every resource that was started."""
        if request.source_execution_id is None:
            raise ApiError(
                400,
                "SOURCE_EXECUTION_REQUIRED",
                f"sourceExecutionId: phase {request.phase.value} follows an earlier execution; name it",
                field="sourceExecutionId",
            )
        with self.db.engine.begin() as conn:
            plan = plans.get(conn, request.plan_id, share=True)
            if plan is None:
                raise ApiError(404, "PLAN_NOT_FOUND", f"planId: no recovery plan {request.plan_id!r}", field="planId")
            source = self._source(conn, request)
            wave_specs = [_wave_spec(w) for w in waves.list_for(conn, source.id)]
            wanted = (
                (lambda r: r.started_at is not None)
                if request.phase is Phase.CLEANUP
                else (lambda r: r.status == "SUCCEEDED")
            )
            runs = [
                {"wave_number": r.wave_number, "arn": r.arn, "adapter": r.adapter}
                for r in resources.list_for(conn, source.id)
                if wanted(r)
            ]
            if not runs:
                raise ApiError(
                    400,
                    "NO_RESOURCES",
                    f"sourceExecutionId: {source.id} has no resource a {request.phase.value} applies to",
                    field="sourceExecutionId",
                )
            phase_request = request.model_copy(update={"mode": Mode(source.mode)})
            row = self._insert(conn, principal, phase_request, plan, wave_specs, runs)
        self._publish(self.publisher.start_execution, row.id)
        log.info("[%s] accepted: %s of %s by %s", row.id, request.phase.value, source.id, principal.actor)
        message = (
            f"Started {row.id} ({source.mode}, {request.phase.value}) of plan '{plan.name}' following {source.id}: "
            f"{len(wave_specs)} waves, {len(runs)} resources"
        )
        return row, message

    @staticmethod
    def _source(conn: Connection, request: ExecutionStart) -> Row:
        source = executions.get(conn, request.source_execution_id)
        if source is None:
            raise ApiError(
                404,
                "EXECUTION_NOT_FOUND",
                f"sourceExecutionId: no execution {request.source_execution_id!r}",
                field="sourceExecutionId",
            )
        if source.plan_id != request.plan_id:
            raise ApiError(
                400,
                "SOURCE_EXECUTION_MISMATCH",
                f"sourceExecutionId: {source.id} ran plan {source.plan_id}, not {request.plan_id}",
                field="sourceExecutionId",
            )
        return source

    def _insert(
        self,
        conn: Connection,
        principal: Principal,
        request: ExecutionStart,
        plan: Row,
        wave_specs: list[dict],
        runs: list[dict],
    ) -> Row:
        """Write the execution, its waves, resource runs and resource locks (all or nothing)."""
        try:
            with conn.begin_nested():
                row = executions.create(
                    conn,
                    plan_id=plan.id,
                    plan_name=plan.name,
                    mode=request.mode.value,
                    phase=request.phase.value,
                    created_by=principal.actor,
                    reason=request.reason,
                    source_execution_id=request.source_execution_id,
                    waves=wave_specs,
                )
        except IntegrityError:
            raise self._already_executing(plan.id, executions.active_for_plan(conn, plan.id)) from None
        resources.insert_many(conn, row.id, runs)
        taken = resource_locks.acquire(conn, row.id, (r["arn"] for r in runs))
        if taken:  # raising rolls the whole start back
            arn, other = next(iter(sorted(taken.items())))
            more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
            raise ApiError(
                409,
                "RESOURCE_IN_ACTIVE_EXECUTION",
                f"{arn} is already being recovered by active execution {other}{more}",
                arn=arn,
                executionId=other,
                conflicts=[{"arn": a, "executionId": e} for a, e in sorted(taken.items())],
            )
        return row

    @staticmethod
    def _get(conn: Connection, execution_id: str) -> Row:
        row = executions.get(conn, execution_id)
        if row is None:
            raise ApiError(404, "EXECUTION_NOT_FOUND", f"no execution {execution_id!r}")
        return row

    @staticmethod
    def _conflict(conn: Connection, execution_id: str, code: str, action: str) -> ApiError:
        status = executions.get(conn, execution_id).status
        return ApiError(409, code, f"cannot {action} {execution_id}: it is {status}", status=status)

    @staticmethod
    def _publish(send, execution_id: str) -> None:
        try:
            send(execution_id)
        except Exception:  # the reconciler re-drives it from Postgres
            log.exception("[%s] publish failed; the reconciler will pick it up", execution_id)
