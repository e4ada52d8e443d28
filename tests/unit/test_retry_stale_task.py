"""A task of an earlier attempt redelivered after a retry (tasks are acks_late) must not start its run
before the run's wave runs again: wave N+1 never starts before wave N is terminal, retries included."""

from __future__ import annotations

from dataclasses import replace

from fakes import FakeUnits, add_execution
from test_retry_commands import run_wave, started
from test_worker_step import Scripted

from services.api.commands.retry import RetryCommands
from services.scheduler.orchestrator import Orchestrator
from services.workers.adapters.base import Outcome, Progress
from services.workers.recovery import Recovery
from services.workers.work import Envelope, Work, record
from shared.domain.states import ExecutionStatus, ResourceStatus, WaveStatus

ES, WS, RS = ExecutionStatus, WaveStatus, ResourceStatus


def test_a_stale_task_of_a_retried_run_claims_nothing_until_its_wave_runs_again():
    units = FakeUnits()
    execution_id = add_execution(units, [1, 1, 1], status=ES.PENDING, adapter="scripted")
    started(units, execution_id, [[RS.FAILED], [RS.SUCCEEDED], [RS.FAILED]])
    first, _, third = sorted(units.tables.runs)
    RetryCommands(units).retry(execution_id, "alice")
    Orchestrator(units).advance(execution_id)  # wave 1 runs again; wave 3 waits for it
    assert units.tables.waves[(execution_id, 3)].status == WS.PENDING
    adapter = Scripted()
    recovery = Recovery(units, {"scripted": adapter}, poll_interval=5, claim_timeout=30, error_backoff=2)

    assert recovery.step(third) == Envelope(third, RS.PENDING.value)  # the redelivered task of attempt 1

    assert units.tables.runs[third].status == RS.PENDING and adapter.begun == []
    recovery.step(first)  # wave 1's own task starts its run as usual
    assert [ctx.resource_run_id for ctx in adapter.begun] == [first]
    run_wave(units, execution_id, [RS.SUCCEEDED])
    assert units.tables.waves[(execution_id, 3)].status == WS.RUNNING
    recovery.step(third)  # now its wave runs: the run starts, with a fresh deadline
    assert [ctx.resource_run_id for ctx in adapter.begun] == [first, third]
    assert units.tables.runs[third].status == RS.IN_PROGRESS


def test_a_late_answer_about_an_earlier_attempt_never_lands_on_the_retry_s_new_attempt():
    units = FakeUnits()
    execution_id = add_execution(units, [1], status=ES.PENDING, adapter="scripted")
    started(units, execution_id, [[RS.FAILED]])
    (run_id,) = units.tables.runs
    RetryCommands(units).retry(execution_id, "alice")
    Orchestrator(units).advance(execution_id)
    recovery = Recovery(units, {"scripted": Scripted()}, poll_interval=5, claim_timeout=30, error_backoff=2)
    recovery.step(run_id)  # attempt 2 starts and is being polled
    assert (units.tables.runs[run_id].attempt, units.tables.runs[run_id].status) == (2, RS.IN_PROGRESS)
    with units() as uow:  # a worker still polling attempt 1's operation comes back with its answer
        current = Work.of(uow.resources.load_work(run_id)).context()
        late = record(uow, replace(current, attempt=1), Progress(Outcome.SUCCEEDED))

    assert late == Envelope(run_id, RS.IN_PROGRESS.value)
    assert units.tables.runs[run_id].status == RS.IN_PROGRESS  # attempt 2 goes on, its own answer decides
    with units() as uow:
        assert record(uow, current, Progress(Outcome.SUCCEEDED)) == Envelope(run_id, RS.SUCCEEDED.value)
