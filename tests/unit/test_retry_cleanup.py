"""Cleanup after a retry: a run is cleaned up when any of its attempts started, even when its latest
attempt never did (the retry was cancelled before its wave started again)."""

from __future__ import annotations

from fakes import FakeUnits, add_execution, add_plan
from test_execution_commands import ALICE, commands

from services.api.commands.executions import StartRequest
from shared.domain.progress import Phase
from shared.domain.states import ExecutionStatus, ResourceStatus

ES, RS = ExecutionStatus, ResourceStatus


def test_a_cleanup_takes_a_run_whose_earlier_attempt_started_though_its_latest_never_did():
    units = FakeUnits()
    add_plan(units.tables)
    source = add_execution(units, [3], status=ES.CANCELLED, waves={1: {"rto_target_minutes": None}})
    ok, retried, never = sorted(units.tables.runs.values(), key=lambda r: r.id)
    ok.status, ok.started_at = RS.SUCCEEDED.value, units.tables.now
    retried.status, retried.attempt = RS.CANCELLED.value, 2  # attempt 2 cancelled before it started
    retried.attempts = [
        {"attempt": 1, "status": "FAILED", "error": "boom", "operationId": "op-1"}
        | {"startedAt": "2026-12-03T08:00:00+00:00", "finishedAt": "2026-12-03T08:01:00+00:00"}
    ]
    never.status = RS.CANCELLED.value  # never started in any attempt: nothing to undo

    result = commands(units).start(ALICE, StartRequest("plan-1", phase=Phase.CLEANUP, source_execution_id=source))

    cleaned = {r.arn for r in units.tables.runs.values() if r.execution_id == result.execution.id}
    assert cleaned == {ok.arn, retried.arn}
