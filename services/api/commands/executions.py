"""The API's execution commands: start, pause, resume, cancel — each one transaction, then a publish.

The publish happens only after commit; if it is lost, the scheduler's reconciler finds the execution
in Postgres and re-drives it.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError

from shared.db.engine import Database
from shared.domain.progress import Phase
from shared.domain.states import ExecutionStatus
from shared.messaging import Publisher
from shared.store import events, executions, plans, resources, waves

from ..auth import Principal
from ..errors import ApiError
from ..schemas import ExecutionStart
from .resolve import resolve_plan

log = logging.getLogger(__name__)
ES = ExecutionStatus


class ExecutionCommands:
    def __init__(self, db: Database, publisher: Publisher):
        self.db = db
        self.publisher = publisher

    def start(self, principal: Principal, request: ExecutionStart) -> tuple[Row, str]:
        with self.db.engine.begin() as conn:
            plan = plans.get(conn, request.plan_id)
            if plan is None:
                raise ApiError(404, "PLAN_NOT_FOUND", f"planId: no recovery plan {request.plan_id!r}", field="planId")
            self._check_source(conn, request)
            resolved = resolve_plan(conn, plan.waves)
            invalid = [{"arn": r.arn, "problem": r.problem} for w in resolved for r in w.resources if r.problem]
            if invalid and not request.skip_invalid:
                raise ApiError(
                    400,
                    "INVALID_RESOURCES",
                    f"{len(invalid)} resource(s) cannot be recovered, e.g. {invalid[0]['arn']}: "
                    f"{invalid[0]['problem']}; fix them or send skipInvalid: true",
                    invalid=invalid,
                )
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
                        waves=[
                            {
                                "number": w.number,
                                "name": w.name,
                                "pause_before": w.pause_before,
                                "on_failure": w.on_failure,
                                "timeout_seconds": w.timeout_seconds,
                            }
                            for w in resolved
                        ],
                    )
            except IntegrityError:
                other = executions.active_for_plan(conn, plan.id)
                raise ApiError(
                    409, "PLAN_ALREADY_EXECUTING", f"plan {plan.id} is already executing as {other}", executionId=other
                ) from None
            resources.insert_many(
                conn,
                row.id,
                [
                    {"wave_number": w.number, "arn": r.arn, "adapter": r.adapter}
                    for w in resolved
                    for r in w.resources
                    if not r.problem
                ],
            )
        total = sum(1 for w in resolved for r in w.resources if not r.problem)
        self._publish(self.publisher.start_execution, row.id)
        log.info("[%s] accepted: %s %s of plan %s by %s", row.id, request.mode, request.phase, plan.id, principal.actor)
        skipped = f", {len(invalid)} invalid skipped" if invalid else ""
        message = (
            f"Started {row.id} ({request.mode.value}, {request.phase.value}) of plan '{plan.name}': "
            f"{len(resolved)} waves, {total} resources{skipped}"
        )
        return row, message

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
        with self.db.engine.begin() as conn:
            current = self._get(conn, execution_id)
            if current.status not in (ES.PENDING, ES.RUNNING, ES.PAUSED):
                raise self._conflict(conn, execution_id, "EXECUTION_NOT_CANCELLABLE", "cancel")
            row = executions.move(
                conn,
                execution_id,
                ES(current.status),
                ES.CANCELLING,
                actor=principal.actor,
                message=f"Cancel requested by {principal.actor}",
            )
            if row is None:
                raise self._conflict(conn, execution_id, "EXECUTION_NOT_CANCELLABLE", "cancel")
        self._publish(self.publisher.advance_execution, execution_id)
        return row, f"Cancelling {execution_id}: resources in flight finish, waves not yet started will not run"

    # --- helpers ---------------------------------------------------------------------------------

    def _check_source(self, conn: Connection, request: ExecutionStart) -> None:
        if request.phase is Phase.INSTANTIATE or request.source_execution_id is None:
            return
        if executions.get(conn, request.source_execution_id) is None:
            raise ApiError(
                404,
                "EXECUTION_NOT_FOUND",
                f"sourceExecutionId: no execution {request.source_execution_id!r}",
                field="sourceExecutionId",
            )

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
