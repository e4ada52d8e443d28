"""A retried execution can still be cancelled: a wave that finished stays as it is even when a PENDING
(retried) wave comes before it, so the cancel's Finish moves only the waves still PENDING."""

from __future__ import annotations

from fakes import FakeUnits, add_execution
from test_retry_commands import started

from services.api.commands.retry import RetryCommands
from services.scheduler.orchestrator import Orchestrator
from shared.domain.progress import ExecutionSnapshot, Finish, Phase, WaveSnapshot, next_step
from shared.domain.states import ExecutionStatus, ResourceStatus, WaveStatus

ES, WS, RS = ExecutionStatus, WaveStatus, ResourceStatus


def test_a_cancel_finish_lists_only_the_waves_still_pending_when_a_finished_wave_follows():
    snapshot = ExecutionSnapshot(
        "ex-1",
        ES.CANCELLING,
        Phase.INSTANTIATE,
        waves=(
            WaveSnapshot(1, "db", WS.PENDING, total=2, unfinished=1, failed=1),  # retried
            WaveSnapshot(2, "app", WS.SUCCEEDED, total=1),
            WaveSnapshot(3, "web", WS.PENDING, total=1, unfinished=1),
        ),
    )
    assert next_step(snapshot) == Finish(ES.CANCELLED, "cancelled", (1, 3), WS.CANCELLED)


def test_a_retried_execution_cancelled_before_its_retried_wave_starts_ends_cancelled_and_keeps_the_finished_wave():
    units = FakeUnits()
    execution_id = started(
        units, add_execution(units, [2, 1], status=ES.PENDING), [[RS.SUCCEEDED, RS.FAILED], [RS.SUCCEEDED]]
    )
    assert units.tables.executions[execution_id].status == ES.COMPLETED_WITH_FAILURES
    RetryCommands(units).retry(execution_id, "alice")
    with units() as uow:  # the cancel lands before the scheduler starts wave 1 again
        assert uow.executions.move(execution_id, ES.RUNNING, ES.CANCELLING, actor="bob", message="cancel")

    Orchestrator(units).advance(execution_id)

    assert units.tables.executions[execution_id].status == ES.CANCELLED
    assert units.tables.waves[(execution_id, 1)].status == WS.CANCELLED
    assert units.tables.waves[(execution_id, 2)].status == WS.SUCCEEDED
    statuses = sorted(r.status for r in units.tables.runs.values())
    assert statuses == [RS.CANCELLED, RS.SUCCEEDED, RS.SUCCEEDED]  # the retried run never started
