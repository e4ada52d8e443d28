"""Orchestrator.advance over a fake unit of work: every kind of step, a lost race, and the reconciler's
repairs — with the wave's dispatch message sent only after the commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes import FakeUnitOfWork, FakeUnits, FakeWaves, add_execution

from services.scheduler.orchestrator import Orchestrator
from services.scheduler.reconciler import Reconciler
from shared.domain.progress import Finish, Pause, StartWave, Wait
from shared.domain.states import ExecutionStatus, ResourceStatus, WaveStatus
from shared.messaging import DispatchWave, RecoverResource

ES, WS, RS = ExecutionStatus, WaveStatus, ResourceStatus


def finish_runs(units: FakeUnits, execution_id: str, wave: int, status: RS = RS.SUCCEEDED) -> None:
    for run in units.tables.runs.values():
        if run.execution_id == execution_id and run.wave_number == wave:
            run.status = status.value


def wave_status(units: FakeUnits, execution_id: str, number: int) -> str:
    return units.tables.waves[(execution_id, number)].status


@pytest.fixture
def units() -> FakeUnits:
    return FakeUnits()


def test_start_moves_a_pending_execution_to_running_and_dispatches_its_first_wave(units):
    execution_id = add_execution(units, [2, 1], status=ES.PENDING)
    Orchestrator(units).start(execution_id)
    assert units.tables.executions[execution_id].status == ES.RUNNING
    runs = tuple((r.id, "simulated", r.arn) for r in units.tables.runs.values() if r.wave_number == 1)
    assert units.publisher.sent == [DispatchWave(execution_id, 1, runs)]
    assert units.tables.executions[execution_id].current_wave == 1


def test_a_running_wave_with_unfinished_resources_waits_and_sends_nothing(units):
    execution_id = add_execution(units, [2])
    Orchestrator(units).advance(execution_id)
    units.publisher.sent.clear()
    assert Orchestrator(units).advance(execution_id) == Wait()
    assert units.publisher.sent == []


def test_a_finished_wave_is_closed_and_the_next_started_in_the_same_transaction(units):
    execution_id = add_execution(units, [1, 1])
    orchestrator = Orchestrator(units)
    orchestrator.advance(execution_id)
    finish_runs(units, execution_id, 1)
    commits = units.tables.commits
    assert orchestrator.advance(execution_id) == StartWave(2)
    assert units.tables.commits == commits + 1
    assert wave_status(units, execution_id, 1) == WS.SUCCEEDED
    assert wave_status(units, execution_id, 2) == WS.RUNNING
    assert [m.wave_number for m in units.publisher.sent] == [1, 2]


def test_an_empty_wave_is_skipped(units):
    execution_id = add_execution(units, [0, 1])
    assert Orchestrator(units).advance(execution_id) == StartWave(2)
    assert wave_status(units, execution_id, 1) == WS.SKIPPED


def test_a_wave_with_an_approval_gate_pauses_the_execution_before_it(units):
    execution_id = add_execution(units, [1, 1], waves={2: {"pause_before": True}})
    orchestrator = Orchestrator(units)
    orchestrator.advance(execution_id)
    finish_runs(units, execution_id, 1)
    step = orchestrator.advance(execution_id)
    assert isinstance(step, Pause) and step.before_wave == 2
    row = units.tables.executions[execution_id]
    assert row.status == ES.PAUSED and row.paused_before_wave == 2
    assert [m.wave_number for m in units.publisher.sent] == [1]


def test_the_last_wave_finishing_completes_the_execution_and_frees_its_resources(units):
    execution_id = add_execution(units, [1])
    units.tables.locks = {"arn:1:0": execution_id}
    orchestrator = Orchestrator(units)
    orchestrator.advance(execution_id)
    finish_runs(units, execution_id, 1)
    step = orchestrator.advance(execution_id)
    assert step == Finish(ES.COMPLETED, "all waves finished")
    assert units.tables.executions[execution_id].status == ES.COMPLETED
    assert units.tables.locks == {}


def test_an_aborting_wave_failure_fails_the_execution_and_skips_the_rest(units):
    execution_id = add_execution(units, [1, 2], waves={1: {"on_failure": "abort"}})
    orchestrator = Orchestrator(units)
    orchestrator.advance(execution_id)
    finish_runs(units, execution_id, 1, RS.FAILED)
    step = orchestrator.advance(execution_id)
    assert isinstance(step, Finish) and step.status is ES.FAILED
    assert wave_status(units, execution_id, 2) == WS.SKIPPED
    assert {r.status for r in units.tables.runs.values() if r.wave_number == 2} == {RS.CANCELLED}


def test_a_cancelling_execution_cancels_the_waves_not_started(units):
    execution_id = add_execution(units, [1, 1])
    orchestrator = Orchestrator(units)
    orchestrator.advance(execution_id)
    units.tables.executions[execution_id].status = ES.CANCELLING.value
    finish_runs(units, execution_id, 1)
    orchestrator.advance(execution_id)
    assert units.tables.executions[execution_id].status == ES.CANCELLED
    assert wave_status(units, execution_id, 2) == WS.CANCELLED


def test_a_paused_or_finished_execution_is_left_alone(units):
    execution_id = add_execution(units, [1], status=ES.PAUSED)
    assert Orchestrator(units).advance(execution_id) == Wait()
    assert units.publisher.sent == []
    assert Orchestrator(units).advance("ex-missing") == Wait()


def test_a_lost_race_for_a_wave_rolls_back_reads_again_and_does_not_dispatch_twice(units, monkeypatch):
    execution_id = add_execution(units, [2])
    real_end = FakeUnitOfWork._end
    raced = []

    def other_scheduler_starts_it_first(self, eid, number, expected, target, **kwargs):
        raced.append(number)
        return None  # our compare-and-set finds the wave no longer PENDING

    def rollback_then_see_the_winner(self, commit):
        real_end(self, commit)
        assert not commit
        wave = units.tables.waves[(execution_id, 1)]
        wave.status, wave.started_at = WS.RUNNING.value, units.tables.now  # what the winner committed
        monkeypatch.undo()

    monkeypatch.setattr(FakeWaves, "move", other_scheduler_starts_it_first)
    monkeypatch.setattr(FakeUnitOfWork, "_end", rollback_then_see_the_winner)
    assert Orchestrator(units).advance(execution_id) == Wait()
    assert raced == [1]
    assert units.publisher.sent == []  # the winner dispatched the wave, not us
    assert units.tables.executions[execution_id].current_wave is None  # our write was rolled back


def test_a_lost_race_rolls_back_every_write_of_the_transaction(units, monkeypatch):
    execution_id = add_execution(units, [0, 1])
    real_move = FakeWaves.move
    calls = []

    def wave_two_is_taken_once(self, eid, number, expected, target, **kwargs):
        calls.append((number, target))
        if number == 2 and len(calls) == 2:
            return None  # someone else moved wave 2 first; the skip of wave 1 must roll back too
        return real_move(self, eid, number, expected, target, **kwargs)

    monkeypatch.setattr(FakeWaves, "move", wave_two_is_taken_once)
    assert Orchestrator(units).advance(execution_id) == StartWave(2)
    assert calls == [(1, WS.SKIPPED), (2, WS.RUNNING), (1, WS.SKIPPED), (2, WS.RUNNING)]
    assert [e for e in units.tables.kinds(execution_id) if e == "wave.skipped"] == ["wave.skipped"]


def test_an_execution_of_empty_waves_skips_them_and_completes_in_one_transaction(units):
    execution_id = add_execution(units, [0, 0])
    commits = units.tables.commits
    assert Orchestrator(units).advance(execution_id) == Finish(ES.COMPLETED, "all waves finished")
    assert units.tables.commits == commits + 1
    assert [wave_status(units, execution_id, n) for n in (1, 2)] == [WS.SKIPPED, WS.SKIPPED]


# --- reconciler ----------------------------------------------------------------------------------


def reconciler(units: FakeUnits) -> Reconciler:
    return Reconciler(units, Orchestrator(units), pending_grace=0, stale_seconds=30)


def test_the_reconciler_starts_an_execution_whose_start_message_was_lost(units):
    execution_id = add_execution(units, [1], status=ES.PENDING)
    report = reconciler(units).run_once()
    assert report.started == 1
    assert units.tables.executions[execution_id].status == ES.RUNNING
    assert [type(m) for m in units.publisher.sent] == [DispatchWave]


def test_the_reconciler_times_out_resources_past_their_waves_timeout_whose_worker_went_silent(units):
    execution_id = add_execution(units, [2], waves={1: {"timeout_seconds": 10}})
    Orchestrator(units).advance(execution_id)
    first, second = sorted(units.tables.runs)
    units.tables.runs[first].status = RS.SUCCEEDED.value
    units.tables.now += timedelta(seconds=11)
    units.tables.runs[second].heartbeat_at = units.tables.now  # too late, but its worker is alive: its own to end
    assert reconciler(units).run_once().timed_out == 0

    units.tables.now += timedelta(seconds=31)  # silent longer than stale_seconds: its worker is gone
    report = reconciler(units).run_once()

    assert report.timed_out == 1
    assert units.tables.runs[second].status == RS.TIMED_OUT
    assert units.tables.runs[second].error == "wave timeout reached (its worker was silent)"
    assert units.tables.executions[execution_id].status == ES.COMPLETED_WITH_FAILURES


def test_the_reconciler_republishes_a_resource_whose_task_was_lost(units):
    execution_id = add_execution(units, [1])
    Orchestrator(units).advance(execution_id)
    units.publisher.sent.clear()
    (run_id,) = units.tables.runs
    units.tables.now += timedelta(seconds=60)
    report = reconciler(units).run_once()
    assert report.republished == 1
    run = units.tables.runs[run_id]
    assert units.publisher.sent == [RecoverResource(run_id, "simulated", execution_id, 1, run.arn)]
    assert units.tables.runs[run_id].heartbeat_at == units.tables.now


def test_a_cluster_that_needs_a_data_loss_approval_parks_the_execution_once_with_its_reason(units):
    execution_id = add_execution(units, [1, 1], waves={1: {"on_failure": "continue"}})
    orchestrator = Orchestrator(units)
    orchestrator.advance(execution_id)
    (run,) = [r for r in units.tables.runs.values() if r.wave_number == 1]
    reason = f"primary Region us-east-1 unreachable for {run.arn}: approve data loss to fail over"
    run.status, run.error, run.error_code = RS.FAILED.value, reason, "DATA_LOSS_APPROVAL_REQUIRED"

    assert orchestrator.advance(execution_id) == Pause(2, reason, data_loss_of_wave=1)

    execution = units.tables.executions[execution_id]
    assert (execution.status, execution.status_reason, execution.paused_before_wave) == (ES.PAUSED, reason, 2)
    assert [(a.wave_number, a.reason) for a in units.tables.approvals] == [(2, reason)]
    assert run.data_loss_asked_at is not None
    execution.status = ES.RUNNING.value  # resumed without allowDataLoss: the cluster stays FAILED
    assert orchestrator.advance(execution_id) == StartWave(2)
