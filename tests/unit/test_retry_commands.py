"""RetryCommands over a fake unit of work, with the real orchestrator: which runs get a new attempt,
which waves run again, what is dispatched (never a SUCCEEDED run), the superseded approval request,
the skip and its wave's outcome, and the refusals."""

from __future__ import annotations

import pytest
from fakes import FakeUnits, add_execution

from services.api.auth import Principal
from services.api.commands.retry import RetryCommands, RetryOptions
from services.scheduler.orchestrator import Orchestrator
from shared.domain import errors
from shared.domain.roles import Role
from shared.domain.states import ExecutionStatus, ResourceStatus, WaveStatus
from shared.messaging import AdvanceExecution, DispatchWave

ES, WS, RS = ExecutionStatus, WaveStatus, ResourceStatus
ALICE = Principal("alice", Role.OPERATOR)


@pytest.fixture
def units() -> FakeUnits:
    return FakeUnits()


def run_wave(units: FakeUnits, execution_id: str, outcomes: list[RS]) -> None:
    """The running wave's dispatched runs end with `outcomes` (in run order), then the scheduler advances."""
    sent = [m for m in units.publisher.sent if isinstance(m, DispatchWave)][-1]
    for (run_id, _, _), outcome in zip(sent.runs, outcomes, strict=True):
        run = units.tables.runs[run_id]
        run.status, run.operation_id = outcome.value, f"op-{run_id}-{run.attempt}"
        run.error = "boom" if outcome is RS.FAILED else None
    Orchestrator(units).advance(execution_id)


def started(units: FakeUnits, execution_id: str, outcomes_per_wave: list[list[RS]]) -> str:
    Orchestrator(units).start(execution_id)
    for outcomes in outcomes_per_wave:
        run_wave(units, execution_id, outcomes)
    return execution_id


def status(units: FakeUnits, execution_id: str) -> str:
    return units.tables.executions[execution_id].status


def test_a_retry_after_completed_with_failures_dispatches_only_the_failed_run_with_its_next_attempt(units):
    execution_id = add_execution(units, [2, 1], status=ES.PENDING)
    started(units, execution_id, [[RS.SUCCEEDED, RS.FAILED], [RS.SUCCEEDED]])
    assert status(units, execution_id) == ES.COMPLETED_WITH_FAILURES
    failed = next(r for r in units.tables.runs.values() if r.status == RS.FAILED)
    units.publisher.sent.clear()

    result = RetryCommands(units).retry(execution_id, "alice", RetryOptions(comment="flaky"))

    assert result.execution.status == ES.RUNNING and "1 failed resource(s)" in result.message
    assert units.publisher.sent == [AdvanceExecution(execution_id)]
    assert (failed.status, failed.attempt, failed.operation_id) == (RS.PENDING, 2, None)
    assert failed.attempts == [
        {"attempt": 1, "status": "FAILED", "error": "boom", "operationId": f"op-{failed.id}-1"}
        | {"startedAt": None, "finishedAt": None}
    ]
    assert "execution.retried" in units.tables.kinds(execution_id)
    Orchestrator(units).advance(execution_id)
    assert units.publisher.sent[-1] == DispatchWave(execution_id, 1, ((failed.id, "simulated", failed.arn),))
    run_wave(units, execution_id, [RS.SUCCEEDED])
    assert status(units, execution_id) == ES.COMPLETED  # wave 2 was not run again
    assert [m.wave_number for m in units.publisher.sent if isinstance(m, DispatchWave)] == [1]


def test_a_retry_of_a_paused_execution_supersedes_its_open_approval_request(units):
    execution_id = add_execution(units, [2, 1], status=ES.PENDING, waves={1: {"on_failure": "pause"}})
    started(units, execution_id, [[RS.SUCCEEDED, RS.FAILED]])
    assert status(units, execution_id) == ES.PAUSED
    assert [a.status for a in units.tables.approvals] == ["pending"]

    RetryCommands(units).retry(execution_id, "alice")

    assert [a.status for a in units.tables.approvals] == ["superseded"]
    row = units.tables.executions[execution_id]
    assert (row.status, row.paused_before_wave) == (ES.RUNNING, None)
    Orchestrator(units).advance(execution_id)
    run_wave(units, execution_id, [RS.SUCCEEDED])  # wave 1 again, now without failures: wave 2 starts
    assert units.tables.waves[(execution_id, 1)].status == WS.SUCCEEDED
    assert units.tables.waves[(execution_id, 2)].status == WS.RUNNING


def test_a_retry_after_an_abort_runs_the_skipped_waves_afterwards(units):
    execution_id = add_execution(units, [2, 1], status=ES.PENDING, waves={1: {"on_failure": "abort"}})
    started(units, execution_id, [[RS.SUCCEEDED, RS.FAILED]])
    assert status(units, execution_id) == ES.FAILED
    assert units.tables.waves[(execution_id, 2)].status == WS.SKIPPED

    RetryCommands(units).retry(execution_id, "alice")
    Orchestrator(units).advance(execution_id)
    run_wave(units, execution_id, [RS.SUCCEEDED])
    run_wave(units, execution_id, [RS.SUCCEEDED])  # wave 2, which the abort skipped
    assert status(units, execution_id) == ES.COMPLETED
    assert all(r.status == RS.SUCCEEDED for r in units.tables.runs.values())


def test_a_retry_of_a_finished_execution_takes_its_resource_locks_again(units):
    execution_id = started(units, add_execution(units, [1], status=ES.PENDING), [[RS.FAILED]])
    assert units.tables.locks == {}
    RetryCommands(units).retry(execution_id, "alice")
    failed = next(iter(units.tables.runs.values()))
    assert units.tables.locks == {failed.arn: execution_id}


def test_a_retry_whose_resource_another_execution_holds_is_refused_and_changes_nothing(units):
    execution_id = started(units, add_execution(units, [1], status=ES.PENDING), [[RS.FAILED]])
    arn = next(iter(units.tables.runs.values())).arn
    units.tables.locks[arn] = "ex-other"
    with pytest.raises(errors.ResourceInActiveExecution):
        RetryCommands(units).retry(execution_id, "alice")
    assert status(units, execution_id) == ES.COMPLETED_WITH_FAILURES and units.tables.locks == {arn: "ex-other"}


def test_nothing_to_retry_is_refused_and_publishes_nothing(units):
    execution_id = add_execution(units, [1, 1], status=ES.PENDING, waves={2: {"pause_before": True}})
    started(units, execution_id, [[RS.SUCCEEDED]])
    assert status(units, execution_id) == ES.PAUSED
    units.publisher.sent.clear()
    with pytest.raises(errors.NothingToRetry):
        RetryCommands(units).retry(execution_id, "alice")
    assert units.publisher.sent == [] and status(units, execution_id) == ES.PAUSED


def test_a_second_retry_of_the_same_execution_finds_it_running(units):
    execution_id = started(units, add_execution(units, [1], status=ES.PENDING), [[RS.FAILED]])
    RetryCommands(units).retry(execution_id, "alice")
    with pytest.raises(errors.ExecutionNotRetryable) as refused:
        RetryCommands(units).retry(execution_id, "bob")
    assert refused.value.details == {"status": "RUNNING"}


def test_an_unknown_execution_is_not_found(units):
    with pytest.raises(errors.ExecutionNotFound):
        RetryCommands(units).retry("ex-404", "alice")


def test_a_skipped_failure_makes_its_wave_succeed_and_resume_continues_to_a_completed_execution(units):
    execution_id = add_execution(units, [2, 1], status=ES.PENDING, waves={1: {"on_failure": "pause"}})
    started(units, execution_id, [[RS.SUCCEEDED, RS.FAILED]])
    failed = next(r for r in units.tables.runs.values() if r.status == RS.FAILED)

    result = RetryCommands(units).skip(ALICE, execution_id, failed.arn, "replica lag accepted")

    assert failed.status == RS.SKIPPED and failed.skip_reason == "replica lag accepted"
    assert units.tables.waves[(execution_id, 1)].status == WS.SUCCEEDED
    assert result.execution.status == ES.PAUSED and "replica lag accepted" in result.message
    assert "resource.skipped" in units.tables.kinds(execution_id)


def test_skip_needs_a_paused_execution_and_a_failed_run(units):
    execution_id = add_execution(units, [2, 1], status=ES.PENDING, waves={1: {"on_failure": "pause"}})
    started(units, execution_id, [[RS.SUCCEEDED, RS.FAILED]])
    ok = next(r for r in units.tables.runs.values() if r.status == RS.SUCCEEDED)
    with pytest.raises(errors.ResourceNotFailed):
        RetryCommands(units).skip(ALICE, execution_id, ok.arn, "why not")
    with pytest.raises(errors.ResourceNotInExecution) as unknown:
        RetryCommands(units).skip(ALICE, execution_id, "arn:nope", "why not")
    assert unknown.value.details["field"] == "arn"
    units.tables.executions[execution_id].status = ES.RUNNING.value
    with pytest.raises(errors.ExecutionNotPaused) as refused:
        RetryCommands(units).skip(ALICE, execution_id, ok.arn, "why not")
    assert refused.value.details == {"status": "RUNNING"}
