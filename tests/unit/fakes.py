"""Fakes at the edges of the service layer: an in-memory unit of work and a publisher that records.

The fake stores keep the rules the SQL stores keep — every status write goes through the same move
tables (``check_move``) and is a compare-and-set on the expected status — so a test of a command or of
the orchestrator exercises the real decisions and only the I/O is replaced. A fake unit of work
restores the whole state when it rolls back, like a transaction.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from shared.domain.batches import STRAYS, EarlierOperations
from shared.domain.failover import DATA_LOSS_APPROVAL_REQUIRED
from shared.domain.progress import ExecutionSnapshot, Phase, StageCounts, WaveSnapshot
from shared.domain.states import (
    EXECUTION_ACTIVE,
    EXECUTION_TERMINAL,
    RESOURCE_FAILED,
    RESOURCE_TERMINAL,
    BatchStatus,
    ExecutionStatus,
    ResourceStatus,
    WaveStatus,
    check_move,
)
from shared.messaging import Message
from shared.unit_of_work import UnitOfWork

ES, WS, RS, BS = ExecutionStatus, WaveStatus, ResourceStatus, BatchStatus


class FakeRow(SimpleNamespace):
    """A row as SQLAlchemy gives it: attributes, and its columns by name in ``_mapping``."""

    @property
    def _mapping(self) -> dict:
        return vars(self)


@dataclass
class Tables:
    """Every table the service layer writes, as dicts of rows (FakeRow: attribute access)."""

    executions: dict[str, FakeRow] = field(default_factory=dict)
    waves: dict[tuple[str, int], FakeRow] = field(default_factory=dict)
    runs: dict[int, FakeRow] = field(default_factory=dict)
    events: list[FakeRow] = field(default_factory=list)
    locks: dict[str, str] = field(default_factory=dict)
    plans: dict[str, FakeRow] = field(default_factory=dict)
    groups: dict[str, FakeRow] = field(default_factory=dict)
    batches: dict[int, FakeRow] = field(default_factory=dict)
    members: dict[int, int] = field(default_factory=dict)  # resource run id -> batch id
    accounts: dict[str, FakeRow] = field(default_factory=dict)
    approvals: list[FakeRow] = field(default_factory=list)  # approval requests, in order
    readiness: dict[str, FakeRow] = field(default_factory=dict)  # plan id -> last evaluation
    readiness_changes: list[FakeRow] = field(default_factory=list)
    outbox: list[FakeRow] = field(default_factory=list)  # emitted events, in order
    durations: dict[tuple[str, str], float] = field(default_factory=dict)  # (adapter, phase) -> typical s
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def kinds(self, execution_id: str) -> list[str]:
        return [e.kind for e in self.events if e.execution_id == execution_id]


NEW_EXECUTION = {
    "pause_requested": False,
    "paused_before_wave": None,
    "current_wave": None,
    "status_reason": None,
    "started_at": None,
    "finished_at": None,
}
NEW_RUN = {
    "status": RS.PENDING.value,
    "operation_id": None,
    "detail": None,
    "error": None,
    "error_code": None,
    "data_loss_asked_at": None,
    "data_loss_approved_by": None,
    "start_attempts": 0,
    "started_at": None,
    "finished_at": None,
    "heartbeat_at": None,
    "attempt": 1,
    "attempts": [],
    "skip_reason": None,
}


def _awaits_data_loss(run: Any, asked: bool = False) -> bool:
    """A run failed for want of a data loss approval, not yet asked about (or, `asked`, asked)."""
    return (
        run.status == RS.FAILED
        and run.error_code == DATA_LOSS_APPROVAL_REQUIRED
        and (run.data_loss_asked_at is not None) == asked
    )


class _Store:
    def __init__(self, tables: Tables) -> None:
        self.t = tables


class FakeEvents(_Store):
    def append(self, execution_id, kind, actor, message, *, wave_number=None, detail=None):
        self.t.events.append(FakeRow(execution_id=execution_id, kind=kind, actor=actor, message=message))


class FakeExecutions(_Store):
    def get(self, execution_id):
        return copy.copy(self.t.executions.get(execution_id))

    def active_for_plan(self, plan_id):
        return next(
            (e.id for e in self.t.executions.values() if e.plan_id == plan_id and e.status in EXECUTION_ACTIVE), None
        )

    def create(self, **fields):
        if self.active_for_plan(fields["plan_id"]) is not None:  # the partial unique index
            return None
        options = {"failover": "auto", "allow_data_loss": False, **fields}  # the columns' defaults
        row = FakeRow(id=f"ex-{next(self.t.ids)}", status=ES.PENDING.value, **options, **NEW_EXECUTION)
        self.t.executions[row.id] = row
        FakeEvents(self.t).append(row.id, "execution.pending", fields["created_by"], "requested")
        return copy.copy(row)

    def move(self, execution_id, expected, target, *, actor, message, values=None, kind=None, detail=None):
        check_move(expected, target)
        row = self.t.executions.get(execution_id)
        if row is None or row.status != expected.value:
            return None
        row.status = target.value
        for key, value in (values or {}).items():
            setattr(row, key, value)
        if target is ES.RUNNING and row.started_at is None:
            row.started_at = self.t.now
        if target in EXECUTION_TERMINAL:
            row.finished_at = self.t.now
            self.t.locks = {arn: e for arn, e in self.t.locks.items() if e != execution_id}
        FakeEvents(self.t).append(execution_id, kind or f"execution.{target.value.lower()}", actor, message)
        return copy.copy(row)

    def reopen(self, execution_id, expected, *, actor, message, detail):
        row = self.t.executions.get(execution_id)
        if expected in EXECUTION_TERMINAL and self.active_for_plan(row.plan_id) is not None:
            return None  # the partial unique index on active executions of a plan
        values = {"paused_before_wave": None, "pause_requested": False, "status_reason": None, "finished_at": None}
        return self.move(
            execution_id, expected, ES.RUNNING, actor=actor, message=message, values=values, kind="execution.retried"
        )

    def set_fields(self, execution_id, expected, **values):
        row = self.t.executions.get(execution_id)
        if row is None or row.status != expected.value:
            return False
        for key, value in values.items():
            setattr(row, key, value)
        return True

    def ids_with_status(self, statuses, older_than_seconds=0):
        return [e.id for e in self.t.executions.values() if e.status in statuses]

    def snapshot(self, execution_id):
        execution = self.t.executions.get(execution_id)
        if execution is None:
            return None
        waves = []
        for (eid, number), wave in sorted(self.t.waves.items()):
            if eid != execution_id:
                continue
            runs = [r for r in self.t.runs.values() if r.execution_id == eid and r.wave_number == number]
            stages = [
                StageCounts(
                    stage,
                    total=len(of_stage),
                    unfinished=sum(r.status not in RESOURCE_TERMINAL for r in of_stage),
                    failed=sum(r.status in RESOURCE_FAILED for r in of_stage),
                    cancelled=sum(r.status == RS.CANCELLED for r in of_stage),
                )
                for stage in sorted({r.stage for r in runs})
                for of_stage in [[r for r in runs if r.stage == stage]]
            ]
            waves.append(
                WaveSnapshot.of_wave_run(
                    wave,
                    stages,
                    awaiting_data_loss=len(waiting := [r for r in runs if _awaits_data_loss(r)]),
                    data_loss_reason=min((r.error for r in waiting), default=None),
                )
            )
        return ExecutionSnapshot(
            id=execution.id,
            status=ES(execution.status),
            phase=Phase(execution.phase),
            pause_requested=execution.pause_requested,
            waves=tuple(waves),
        )


class FakeWaves(_Store):
    def insert_many(self, execution_id, specs):
        for spec in specs:
            self.t.waves[(execution_id, spec["number"])] = FakeRow(
                execution_id=execution_id,
                status=WS.PENDING.value,
                gate_passed=False,
                started_at=None,
                status_reason=None,
                stage=None,
                passed_stage=None,
                **spec,
            )

    def get(self, execution_id, number):
        return copy.copy(self.t.waves.get((execution_id, number)))

    def list_for(self, execution_id):
        return [copy.copy(w) for (eid, _), w in sorted(self.t.waves.items()) if eid == execution_id]

    def move(self, execution_id, number, expected, target, *, actor, message, reason=None, detail=None, values=None):
        check_move(expected, target)
        wave = self.t.waves.get((execution_id, number))
        if wave is None or wave.status != expected.value:
            return None
        wave.status, wave.status_reason = target.value, reason
        for key, value in (values or {}).items():
            setattr(wave, key, value)
        if target is WS.PENDING:
            wave.started_at = wave.finished_at = None
        if target is WS.RUNNING:
            wave.started_at = self.t.now
        FakeEvents(self.t).append(execution_id, f"wave.{target.value.lower()}", actor, message, wave_number=number)
        return copy.copy(wave)

    def flag_past_rto(self, limit=100):
        return []  # the fakes' clock does not run; RTO flags are tested against Postgres

    def start_stage(self, execution_id, number, after, stage, *, actor, message):
        wave = self.t.waves.get((execution_id, number))
        if wave is None or wave.status != WS.RUNNING or wave.stage != after:
            return False
        wave.stage, wave.passed_stage = stage, None
        FakeEvents(self.t).append(execution_id, "wave.stage", actor, message, wave_number=number)
        return True

    def pass_gate(self, execution_id, number):
        wave = self.t.waves[(execution_id, number)]
        wave.gate_passed, wave.passed_stage = True, wave.stage


class FakeResources(_Store):
    def insert_many(self, execution_id, rows):
        for row in rows:
            run_id = next(self.t.ids)
            row = {"stage": 0, "action": None, **row}
            self.t.runs[run_id] = FakeRow(id=run_id, execution_id=execution_id, **row, **NEW_RUN)

    def for_wave(self, execution_id, number, stage=None, *, pending=False):
        return [
            copy.copy(r)
            for r in sorted(self.t.runs.values(), key=lambda r: r.id)
            if r.execution_id == execution_id
            and r.wave_number == number
            and stage in (None, r.stage)
            and (not pending or r.status == RS.PENDING)
        ]

    def by_arn(self, execution_id, arn):
        runs = (r for r in self.t.runs.values() if r.execution_id == execution_id and r.arn == arn)
        return copy.copy(next(runs, None))

    def new_attempts(self, run_ids):
        moved = []
        for run_id in run_ids:
            run = self.t.runs[run_id]
            if run.status not in RESOURCE_FAILED:
                continue
            check_move(RS(run.status), RS.PENDING)
            ended = {"attempt": run.attempt, "status": run.status, "error": run.error, "operationId": run.operation_id}
            ended |= {"startedAt": run.started_at, "finishedAt": run.finished_at}
            run.attempts = [*run.attempts, ended]
            run.attempt += 1
            run.status = RS.PENDING.value
            run.operation_id = run.error = run.started_at = run.finished_at = run.heartbeat_at = None
            run.error_code = run.data_loss_asked_at = None  # data_loss_approved_by stays with the run
            moved.append(run_id)
        return moved

    def ask_data_loss(self, execution_id, wave_number):
        runs = [
            r
            for r in self.t.runs.values()
            if (r.execution_id, r.wave_number) == (execution_id, wave_number) and _awaits_data_loss(r)
        ]
        for run in runs:
            run.data_loss_asked_at = self.t.now
        return len(runs)

    def asked_data_loss(self, execution_id):
        runs = [r for r in self.t.runs.values() if r.execution_id == execution_id and _awaits_data_loss(r, True)]
        return [copy.copy(r) for r in sorted(runs, key=lambda r: (r.wave_number, r.id))]

    def approve_data_loss(self, run_ids, approver):
        runs = [self.t.runs[i] for i in run_ids if _awaits_data_loss(self.t.runs[i], True)]
        for run in runs:
            run.data_loss_approved_by = approver
        return len(runs)

    def reopen_cancelled(self, run_ids):
        check_move(RS.CANCELLED, RS.PENDING)
        moved = [i for i in run_ids if self.t.runs[i].status == RS.CANCELLED]
        for run_id in moved:
            self.t.runs[run_id].status, self.t.runs[run_id].error = RS.PENDING.value, None
        return moved

    def cancel_later_stages(self, execution_id, number, after, reason):
        check_move(RS.PENDING, RS.CANCELLED)
        later = [
            r
            for r in self.t.runs.values()
            if r.execution_id == execution_id and r.wave_number == number and r.stage > after and r.status == RS.PENDING
        ]
        for run in later:
            run.status, run.error = RS.CANCELLED.value, reason
        return len(later)

    def list_for(self, execution_id):
        return [copy.copy(r) for r in self.t.runs.values() if r.execution_id == execution_id]

    def move(self, run_id, expected, target, *, actor, values=None, message=None, detail=None, attempt=None):
        check_move(expected, target)
        run = self.t.runs.get(run_id)
        if run is None or run.status != expected.value or attempt not in (None, run.attempt):
            return None
        run.status = target.value
        run.heartbeat_at = self.t.now
        for key, value in (values or {}).items():
            setattr(run, key, value)
        if target is RS.STARTING:
            run.started_at = run.started_at or self.t.now
            run.start_attempts += 1
        if target in RESOURCE_TERMINAL:
            run.finished_at = self.t.now
        if target in RESOURCE_TERMINAL or message:
            FakeEvents(self.t).append(run.execution_id, f"resource.{target.value.lower()}", actor, message or "")
        return copy.copy(run)

    def cancel_pending(self, execution_id, wave_numbers, reason):
        check_move(RS.PENDING, RS.CANCELLED)
        cancelled = 0
        for run in self.t.runs.values():
            if run.execution_id == execution_id and run.wave_number in wave_numbers and run.status == RS.PENDING:
                run.status, run.error = RS.CANCELLED.value, reason
                cancelled += 1
        return cancelled

    def typical_duration(self, adapter, phase):
        return self.t.durations.get((adapter, phase))

    def heartbeat(self, run_id, detail=None):
        run = self.t.runs[run_id]
        run.heartbeat_at = self.t.now
        if detail is not None:
            run.detail = detail

    def overdue_in_running_waves(self, silent_seconds=0):
        overdue = []
        for run in self.t.runs.values():
            wave = self.t.waves[(run.execution_id, run.wave_number)]
            running = wave.status == WS.RUNNING and run.status not in RESOURCE_TERMINAL and wave.started_at
            silent = run.heartbeat_at is None or run.heartbeat_at < self.t.now - timedelta(seconds=silent_seconds)
            if running and silent and wave.started_at + timedelta(seconds=wave.timeout_seconds) < self.t.now:
                overdue.append(FakeRow(**vars(run), is_action=run.action is not None))
        return overdue

    def stale_in_running_waves(self, stale_seconds):
        cutoff = self.t.now - timedelta(seconds=stale_seconds)
        stale = []
        for run in self.t.runs.values():
            wave = self.t.waves[(run.execution_id, run.wave_number)]
            seen = run.heartbeat_at or wave.started_at
            dispatched = wave.stage is None or run.stage == wave.stage
            silent = seen is not None and seen < cutoff
            if wave.status == WS.RUNNING and run.status not in RESOURCE_TERMINAL and dispatched and silent:
                stale.append(copy.copy(run))
        return stale

    def load_work(self, run_id):
        run = self.t.runs.get(run_id)
        if run is None:
            return None
        execution = self.t.executions[run.execution_id]
        wave = self.t.waves[(run.execution_id, run.wave_number)]
        of_execution = {"execution_status": execution.status, "mode": execution.mode, "phase": execution.phase}
        of_execution |= {"failover": execution.failover, "allow_data_loss": execution.allow_data_loss}
        of_wave = {"wave_started_at": wave.started_at, "timeout_seconds": wave.timeout_seconds}
        return FakeRow(**vars(run), **of_execution, **of_wave, now=self.t.now)

    def claim_work(self, run_id):
        """As the statement does: PENDING -> STARTING only in a started wave of an execution not being
        cancelled, before the wave's timeout (a resource); the run's work, or None."""
        work = self.load_work(run_id)
        if work is None or work.status != RS.PENDING.value or work.wave_started_at is None:
            return None
        if work.execution_status in (ES.CANCELLING.value, ES.CANCELLED.value):
            return None
        if work.action is None and self.t.now >= work.wave_started_at + timedelta(seconds=work.timeout_seconds):
            return None
        if self.move(run_id, RS.PENDING, RS.STARTING, actor="worker") is None:
            return None
        return self.load_work(run_id)

    def reclaim_stale_start(self, run_id, attempts, stale_seconds):
        run = self.t.runs[run_id]
        silent = run.heartbeat_at is None or run.heartbeat_at < self.t.now - timedelta(seconds=stale_seconds)
        if run.status != RS.STARTING or run.start_attempts != attempts or run.operation_id is not None or not silent:
            return None
        run.start_attempts += 1
        run.heartbeat_at = self.t.now
        return copy.copy(run)

    def keep_start(self, run_id, attempts):
        run = self.t.runs.get(run_id)
        if run is None or run.status != RS.STARTING or run.start_attempts != attempts or run.operation_id:
            return False
        run.heartbeat_at = self.t.now
        return True

    def release_start(self, run_id, attempts):
        run = self.t.runs[run_id]
        if run.status != RS.STARTING or run.start_attempts != attempts or run.operation_id is not None:
            return False
        run.heartbeat_at = None
        return True

    def source_details(self, execution_id, arns):
        return {}


class FakeLocks(_Store):
    def acquire(self, execution_id, arns):
        taken = {}
        for arn in sorted(set(arns)):
            holder = self.t.locks.setdefault(arn, execution_id)
            if holder != execution_id:
                taken[arn] = holder
        return taken


class FakePlans(_Store):
    def get(self, plan_id, *, share=False):
        return copy.copy(self.t.plans.get(plan_id))


class FakeGroups(_Store):
    def get_many(self, group_ids, *, share=False):
        return {gid: copy.copy(self.t.groups[gid]) for gid in group_ids if gid in self.t.groups}


class FakeLaunchBatches(_Store):
    def create_for_wave(self, execution_id, wave_number, runs):
        return 0  # the orchestrator tests use a non-batching adapter; worker tests call `add` themselves

    def add(self, execution_id, wave_number, run_ids, adapter="batching"):
        batch_id = next(self.t.ids)
        self.t.batches[batch_id] = FakeRow(
            id=batch_id,
            execution_id=execution_id,
            wave_number=wave_number,
            adapter=adapter,
            account_id=None,
            region=None,
            status=BS.PENDING.value,
            start_attempts=0,
            claimed_at=None,
            operation_id=None,
            detail=None,
            outcomes=None,
            error=None,
            view=None,
            viewed_at=None,
        )
        self.t.members.update({run_id: batch_id for run_id in run_ids})
        return batch_id

    def batch_of(self, run_id):
        return self.t.members.get(run_id)

    def forget_members(self, run_ids):
        for run_id in run_ids:
            self.t.members.pop(run_id, None)

    def get(self, batch_id):
        batch = copy.copy(self.t.batches[batch_id])
        batch.view_age = None if batch.viewed_at is None else (self.t.now - batch.viewed_at).total_seconds()
        return batch

    def members(self, batch_id):
        return [copy.copy(self.t.runs[r]) for r, b in sorted(self.t.members.items()) if b == batch_id]

    def _claimed(self, batch_id, attempts):
        batch = self.t.batches[batch_id]
        return batch if batch.status == BS.STARTING and batch.start_attempts == attempts else None

    def claim_start(self, batch_id, stale_seconds):
        batch = self.t.batches[batch_id]
        stale = batch.status == BS.STARTING and batch.claimed_at < self.t.now - timedelta(seconds=stale_seconds)
        if batch.status != BS.PENDING and not stale:
            return None
        check_move(BS(batch.status), BS.STARTING)
        batch.status, batch.claimed_at = BS.STARTING.value, self.t.now
        batch.start_attempts += 1
        return copy.copy(batch)

    def keep_claim(self, batch_id, attempts):
        batch = self._claimed(batch_id, attempts)
        if batch is not None:
            batch.claimed_at = self.t.now
        return batch is not None

    def record_stray(self, batch_id, attempts, *, operation_id, detail, actor):
        batch = self.t.batches[batch_id]
        old = dict(batch.detail or {})
        entry = {"operationId": operation_id, "attempt": attempts, **detail}
        batch.detail = {**old, STRAYS: [*old.get(STRAYS, []), entry]}
        FakeEvents(self.t).append(batch.execution_id, "batch.stray", actor, f"stray {operation_id}")
        return copy.copy(batch)

    def earlier_operations(self, execution_id, adapter):
        chain, source = [], self.t.executions[execution_id].source_execution_id
        while source is not None:
            chain.append(source)
            source = self.t.executions[source].source_execution_id
        batches = [b for b in self.t.batches.values() if b.execution_id in chain and b.adapter == adapter]
        return EarlierOperations.of(chain, batches)

    def release(self, batch_id, attempts):
        batch = self._claimed(batch_id, attempts)
        if batch is not None:
            batch.status, batch.claimed_at = BS.PENDING.value, None
        return batch is not None

    def record_start(self, batch_id, attempts, *, operation_id, detail, outcomes, actor, message):
        batch = self._claimed(batch_id, attempts)
        if batch is not None:
            batch.status, batch.operation_id, batch.detail, batch.outcomes = (
                BS.STARTED.value,
                operation_id,
                {**(batch.detail or {}), **detail},
                outcomes,
            )
        return copy.copy(batch)

    def fail(self, batch_id, attempts, error, *, actor):
        batch = self._claimed(batch_id, attempts)
        if batch is not None:
            batch.status, batch.error = BS.FAILED.value, error
        return copy.copy(batch)

    def claim_scope_views(self, batch_id, max_age):
        return []  # the fake keeps one batch per account+Region

    def claim_view(self, batch_id, max_age, scope_gap=0.0):
        batch = self.t.batches[batch_id]
        old = batch.viewed_at is None or batch.viewed_at < self.t.now - timedelta(seconds=max_age)
        if batch.status != BS.STARTED or not old:
            return False
        batch.viewed_at = self.t.now
        return True

    def store_view(self, batch_id, view):
        self.t.batches[batch_id].view = view
        self.t.batches[batch_id].viewed_at = self.t.now


class FakeTargetAccounts(_Store):
    def get(self, account_id):
        return copy.copy(self.t.accounts.get(account_id))


class FakeApprovalRequests(_Store):
    def open_gate(self, execution_id, wave_number, reason):
        if any(
            a.execution_id == execution_id and a.wave_number == wave_number and a.status == "pending"
            for a in self.t.approvals
        ):
            return None
        request = FakeRow(execution_id=execution_id, wave_number=wave_number, reason=reason, status="pending")
        self.t.approvals.append(request)
        return request

    def supersede(self, execution_id):
        closed = [a for a in self.t.approvals if a.execution_id == execution_id and a.status == "pending"]
        for request in closed:
            request.status = "superseded"
        return closed

    def expire_due(self, limit=100):
        return []  # the fakes have no clock that runs; expiry is tested against Postgres


class FakeReadiness(_Store):
    def record(self, plan_id, *, status, evaluated_at, checks, rto_forecast):
        previous = self.t.readiness.get(plan_id)
        self.t.readiness[plan_id] = FakeRow(
            plan_id=plan_id, status=status, evaluated_at=evaluated_at, checks=checks, rto_forecast=rto_forecast
        )
        before = previous.status if previous is not None else "notEvaluated"
        return before if before != status else None

    def add_change(self, plan_id, from_status, to_status, message):
        change = FakeRow(plan_id=plan_id, from_status=from_status, to_status=to_status, message=message)
        self.t.readiness_changes.append(change)


class FakeOutbox(_Store):
    def emit(self, *, kind, envelope, execution_id=None):
        row = FakeRow(
            id=next(self.t.ids),
            event_id=envelope["id"],
            kind=kind,
            execution_id=execution_id,
            envelope=envelope,
            fanned_out_at=None,
        )
        self.t.outbox.append(row)
        return row


class FakeUnitOfWork(UnitOfWork):
    """One unit over shared :class:`Tables`; a rollback puts the tables back as they were at the start."""

    def __init__(self, tables: Tables, publisher: FakePublisher, *, autocommit: bool = False) -> None:
        super().__init__(publisher)
        self.tables = tables
        self.autocommit = autocommit
        self.events = FakeEvents(tables)
        self.executions = FakeExecutions(tables)
        self.waves = FakeWaves(tables)
        self.resources = FakeResources(tables)
        self.resource_locks = FakeLocks(tables)
        self.plans = FakePlans(tables)
        self.groups = FakeGroups(tables)
        self.launch_batches = FakeLaunchBatches(tables)
        self.target_accounts = FakeTargetAccounts(tables)
        self.approval_requests = FakeApprovalRequests(tables)
        self.readiness = FakeReadiness(tables)
        self.outbox = FakeOutbox(tables)

    def _begin(self) -> None:
        self._before = None if self.autocommit else copy.deepcopy(vars(self.tables))

    def _end(self, commit: bool) -> None:
        if commit:
            self.tables.commits = getattr(self.tables, "commits", 0) + 1
        elif self._before is not None:
            vars(self.tables).update(self._before)


class FakePublisher:
    """Records what is published; ``failing`` makes every publish raise (a broker that is down)."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.failing = False

    def publish(self, message: Message) -> None:
        if self.failing:
            raise ConnectionError("broker down")
        self.sent.append(message)


class FakeUnits:
    """The unit-of-work factory the service layer is given: ``units()`` or ``units(autocommit=True)``."""

    def __init__(self, tables: Tables | None = None) -> None:
        self.tables = tables or Tables()
        self.publisher = FakePublisher()

    def __call__(self, *, autocommit: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.tables, self.publisher, autocommit=autocommit)


def add_execution(
    units: FakeUnits,
    runs_per_wave: list[int],
    *,
    status: ExecutionStatus = ES.RUNNING,
    adapter: str = "simulated",
    waves: dict[int, dict] | None = None,
) -> str:
    """An execution with one wave per entry of ``runs_per_wave`` (that many runs of ``adapter`` each);
    ``waves`` overrides wave fields by number."""
    overrides = waves or {}
    numbers = range(1, len(runs_per_wave) + 1)
    with units() as uow:
        row = uow.executions.create(
            plan_id="plan-1",
            plan_name="Plan",
            mode="drill",
            phase="instantiate",
            created_by="test",
            reason=None,
            source_execution_id=None,
        )
        uow.waves.insert_many(row.id, [wave_spec(n, **overrides.get(n, {})) for n in numbers])
        runs = [
            {"wave_number": n, "arn": f"arn:{n}:{i}", "adapter": adapter}
            for n in numbers
            for i in range(runs_per_wave[n - 1])
        ]
        uow.resources.insert_many(row.id, runs)
    units.tables.executions[row.id].status = status.value
    return row.id


def add_plan(tables: Tables, plan_id: str = "plan-1", name: str = "Plan", version: int = 1) -> FakeRow:
    plan = FakeRow(id=plan_id, name=name, version=version)
    tables.plans[plan_id] = plan
    return plan


def wave_spec(number: int, **overrides: Any) -> dict[str, Any]:
    spec = {"number": number, "name": f"w{number}", "pause_before": False, "on_failure": "continue"}
    return {**spec, "timeout_seconds": 3600, **overrides}
