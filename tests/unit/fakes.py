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

from shared.domain.progress import ExecutionSnapshot, OnFailure, Phase, WaveSnapshot
from shared.domain.states import (
    EXECUTION_ACTIVE,
    EXECUTION_TERMINAL,
    RESOURCE_FAILED,
    RESOURCE_TERMINAL,
    ExecutionStatus,
    ResourceStatus,
    WaveStatus,
    check_move,
)
from shared.messaging import Message
from shared.unit_of_work import UnitOfWork

ES, WS, RS = ExecutionStatus, WaveStatus, ResourceStatus


@dataclass
class Tables:
    """Every table the service layer writes, as dicts of rows (SimpleNamespace: attribute access)."""

    executions: dict[str, SimpleNamespace] = field(default_factory=dict)
    waves: dict[tuple[str, int], SimpleNamespace] = field(default_factory=dict)
    runs: dict[int, SimpleNamespace] = field(default_factory=dict)
    events: list[SimpleNamespace] = field(default_factory=list)
    locks: dict[str, str] = field(default_factory=dict)
    plans: dict[str, SimpleNamespace] = field(default_factory=dict)
    groups: dict[str, SimpleNamespace] = field(default_factory=dict)
    batches: dict[int, SimpleNamespace] = field(default_factory=dict)
    members: dict[int, int] = field(default_factory=dict)  # resource run id -> batch id
    accounts: dict[str, SimpleNamespace] = field(default_factory=dict)
    approvals: list[SimpleNamespace] = field(default_factory=list)  # approval requests, in order
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def kinds(self, execution_id: str) -> list[str]:
        return [e.kind for e in self.events if e.execution_id == execution_id]


class _Store:
    def __init__(self, tables: Tables) -> None:
        self.t = tables


class FakeEvents(_Store):
    def append(self, execution_id, kind, actor, message, *, wave_number=None, detail=None):
        self.t.events.append(SimpleNamespace(execution_id=execution_id, kind=kind, actor=actor, message=message))


class FakeExecutions(_Store):
    def get(self, execution_id):
        return copy.copy(self.t.executions.get(execution_id))

    def active_for_plan(self, plan_id):
        return next(
            (e.id for e in self.t.executions.values() if e.plan_id == plan_id and e.status in EXECUTION_ACTIVE), None
        )

    def create(self, *, plan_id, plan_name, mode, phase, created_by, reason, source_execution_id):
        if self.active_for_plan(plan_id) is not None:  # the partial unique index
            return None
        row = SimpleNamespace(
            id=f"ex-{next(self.t.ids)}",
            plan_id=plan_id,
            plan_name=plan_name,
            mode=mode,
            phase=phase,
            status=ES.PENDING.value,
            created_by=created_by,
            reason=reason,
            source_execution_id=source_execution_id,
            pause_requested=False,
            paused_before_wave=None,
            current_wave=None,
            status_reason=None,
            started_at=None,
            finished_at=None,
        )
        self.t.executions[row.id] = row
        FakeEvents(self.t).append(row.id, "execution.pending", created_by, "requested")
        return copy.copy(row)

    def move(self, execution_id, expected, target, *, actor, message, values=None):
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
        FakeEvents(self.t).append(execution_id, f"execution.{target.value.lower()}", actor, message)
        return copy.copy(row)

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
            waves.append(
                WaveSnapshot(
                    number=number,
                    name=wave.name,
                    status=WS(wave.status),
                    pause_before=wave.pause_before,
                    gate_passed=wave.gate_passed,
                    on_failure=OnFailure(wave.on_failure),
                    total=len(runs),
                    unfinished=sum(r.status not in RESOURCE_TERMINAL for r in runs),
                    failed=sum(r.status in RESOURCE_FAILED for r in runs),
                    cancelled=sum(r.status == RS.CANCELLED for r in runs),
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
            self.t.waves[(execution_id, spec["number"])] = SimpleNamespace(
                execution_id=execution_id,
                status=WS.PENDING.value,
                gate_passed=False,
                started_at=None,
                status_reason=None,
                **spec,
            )

    def get(self, execution_id, number):
        return copy.copy(self.t.waves.get((execution_id, number)))

    def list_for(self, execution_id):
        return [copy.copy(w) for (eid, _), w in sorted(self.t.waves.items()) if eid == execution_id]

    def move(self, execution_id, number, expected, target, *, actor, message, reason=None, detail=None):
        check_move(expected, target)
        wave = self.t.waves.get((execution_id, number))
        if wave is None or wave.status != expected.value:
            return None
        wave.status, wave.status_reason = target.value, reason
        if target is WS.RUNNING:
            wave.started_at = self.t.now
        FakeEvents(self.t).append(execution_id, f"wave.{target.value.lower()}", actor, message, wave_number=number)
        return copy.copy(wave)

    def flag_past_rto(self, limit=100):
        return []  # the fakes' clock does not run; RTO flags are tested against Postgres

    def pass_gate(self, execution_id, number):
        self.t.waves[(execution_id, number)].gate_passed = True


class FakeResources(_Store):
    def insert_many(self, execution_id, rows):
        for row in rows:
            run_id = next(self.t.ids)
            self.t.runs[run_id] = SimpleNamespace(
                id=run_id,
                execution_id=execution_id,
                status=RS.PENDING.value,
                operation_id=None,
                detail=None,
                error=None,
                start_attempts=0,
                started_at=None,
                heartbeat_at=None,
                **row,
            )

    def for_wave(self, execution_id, number):
        return [
            copy.copy(r)
            for r in sorted(self.t.runs.values(), key=lambda r: r.id)
            if r.execution_id == execution_id and r.wave_number == number
        ]

    def list_for(self, execution_id):
        return [copy.copy(r) for r in self.t.runs.values() if r.execution_id == execution_id]

    def move(self, run_id, expected, target, *, actor, values=None, message=None, detail=None):
        check_move(expected, target)
        run = self.t.runs.get(run_id)
        if run is None or run.status != expected.value:
            return None
        run.status = target.value
        run.heartbeat_at = self.t.now
        for key, value in (values or {}).items():
            setattr(run, key, value)
        if target is RS.STARTING:
            run.started_at = run.started_at or self.t.now
            run.start_attempts += 1
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

    def heartbeat(self, run_id, detail=None):
        run = self.t.runs[run_id]
        run.heartbeat_at = self.t.now
        if detail is not None:
            run.detail = detail

    def overdue_in_running_waves(self):
        overdue = []
        for run in self.t.runs.values():
            wave = self.t.waves[(run.execution_id, run.wave_number)]
            running = wave.status == WS.RUNNING and run.status not in RESOURCE_TERMINAL and wave.started_at
            if running and wave.started_at + timedelta(seconds=wave.timeout_seconds) < self.t.now:
                overdue.append(copy.copy(run))
        return overdue

    def stale_in_running_waves(self, stale_seconds):
        cutoff = self.t.now - timedelta(seconds=stale_seconds)
        stale = []
        for run in self.t.runs.values():
            wave = self.t.waves[(run.execution_id, run.wave_number)]
            seen = run.heartbeat_at or wave.started_at
            if wave.status == WS.RUNNING and run.status not in RESOURCE_TERMINAL and seen is not None and seen < cutoff:
                stale.append(copy.copy(run))
        return stale


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
        return 0  # the simulated adapter does not batch; the worker tests set batches up themselves


class FakeApprovalRequests(_Store):
    def open_gate(self, execution_id, wave_number, reason):
        if any(
            a.execution_id == execution_id and a.wave_number == wave_number and a.status == "pending"
            for a in self.t.approvals
        ):
            return None
        request = SimpleNamespace(execution_id=execution_id, wave_number=wave_number, reason=reason, status="pending")
        self.t.approvals.append(request)
        return request

    def expire_due(self, limit=100):
        return []  # the fakes have no clock that runs; expiry is tested against Postgres


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
        self.approval_requests = FakeApprovalRequests(tables)

    def _begin(self) -> None:
        self._before = None if self.autocommit else copy.deepcopy(vars(self.tables))

    def _commit(self) -> None:
        self.tables.commits = getattr(self.tables, "commits", 0) + 1

    def _rollback(self) -> None:
        if self._before is not None:
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


def add_plan(tables: Tables, plan_id: str = "plan-1", name: str = "Plan", version: int = 1) -> SimpleNamespace:
    plan = SimpleNamespace(id=plan_id, name=name, version=version)
    tables.plans[plan_id] = plan
    return plan


def wave_spec(number: int, **overrides: Any) -> dict[str, Any]:
    spec = {"number": number, "name": f"w{number}", "pause_before": False, "on_failure": "continue"}
    return {**spec, "timeout_seconds": 3600, **overrides}
