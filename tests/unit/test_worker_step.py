"""The worker's resource step over a fake unit of work and scripted adapters: claim, start once, poll,
retry later, time out, and launch batches (one start for all members, one shared status look-up)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from fakes import FakeUnits, add_execution
from support import PATIENCE

from services.workers.adapters.base import (
    Adapter,
    BatchAdapter,
    BatchContext,
    BatchStarted,
    Failed,
    Outcome,
    Progress,
    ResourceContext,
    RetryLater,
    Started,
)
from services.workers.recovery import Recovery
from services.workers.work import Envelope, PollAgain
from shared.domain.states import BatchStatus, ExecutionStatus, ResourceStatus, WaveStatus

ES, RS = ExecutionStatus, ResourceStatus
POLL, CLAIM, BACKOFF = 5.0, 30.0, 2.0
TIGHT = 1.0  # the wait near an operation's expected end (the default poll_tight)


class Scripted(Adapter):
    """Starts and polls as scripted: each script item is returned, or raised when it is an exception."""

    name = "scripted"
    uses_aws = False

    def __init__(self, starts: list[Any] | None = None, polls: list[Any] | None = None) -> None:
        self.starts, self.polls = list(starts or []), list(polls or [])
        self.begun: list[ResourceContext] = []
        self.polled: list[ResourceContext] = []

    def _start(self, ctx: ResourceContext) -> Started:
        self.begun.append(ctx)
        return _play(self.starts, Started(f"op-{ctx.resource_run_id}"))

    instantiate = activate = cleanup = replicate = _start

    def status(self, ctx: ResourceContext) -> Progress:
        self.polled.append(ctx)
        return _play(self.polls, Progress(Outcome.IN_PROGRESS))


class Batching(BatchAdapter):
    """A batch adapter whose members succeed once the view lists them as done."""

    name = "batching"
    uses_aws = False
    batch_limit = 100

    def __init__(self, starts: list[Any] | None = None) -> None:
        self.starts = list(starts or [])
        self.started: list[BatchContext] = []
        self.described: list[BatchContext] = []
        self.done: set[int] = set()

    def start_batch(self, batch: BatchContext) -> BatchStarted:
        self.started.append(batch)
        default = BatchStarted("job-1", {}, {m.resource_run_id: Progress(Outcome.IN_PROGRESS) for m in batch.members})
        return _play(self.starts, default)

    def describe_batch(self, batch: BatchContext) -> dict[str, Any]:
        self.described.append(batch)
        return {"done": sorted(self.done)}

    def member_status(self, view: dict[str, Any], ctx: ResourceContext) -> Progress:
        return Progress(Outcome.SUCCEEDED if ctx.resource_run_id in view["done"] else Outcome.IN_PROGRESS)


def _play(script: list[Any], default: Any) -> Any:
    item = script.pop(0) if script else default
    if isinstance(item, Exception):
        raise item
    return item


def running_wave(units: FakeUnits, adapter: str, count: int = 1, timeout: int = 3600) -> list[int]:
    """A RUNNING execution whose RUNNING wave has ``count`` PENDING runs of ``adapter``; their ids."""
    execution_id = add_execution(units, [count], adapter=adapter, waves={1: {"timeout_seconds": timeout}})
    wave = units.tables.waves[(execution_id, 1)]
    wave.status, wave.started_at = WaveStatus.RUNNING.value, units.tables.now
    return sorted(units.tables.runs)


def recovery(units: FakeUnits, *adapters: Adapter) -> Recovery:
    return Recovery(
        units, {a.name: a for a in adapters}, poll_interval=POLL, claim_timeout=CLAIM, error_backoff=BACKOFF
    )


def status(units: FakeUnits, run_id: int) -> str:
    return units.tables.runs[run_id].status


@pytest.fixture
def units() -> FakeUnits:
    return FakeUnits()


def test_a_pending_run_is_claimed_started_once_and_polled_with_its_operation_id_stored_first(units):
    (run_id,) = running_wave(units, "scripted")
    adapter = Scripted()
    assert recovery(units, adapter).step(run_id) == PollAgain(TIGHT)  # nothing learned: looks again soon
    run = units.tables.runs[run_id]
    assert (run.status, run.operation_id, run.start_attempts) == (RS.IN_PROGRESS, f"op-{run_id}", 1)
    assert len(adapter.begun) == 1 and adapter.polled[0].operation_id == f"op-{run_id}"


def test_a_redelivered_task_polls_the_operation_instead_of_starting_a_second_one(units):
    (run_id,) = running_wave(units, "scripted")
    adapter = Scripted(polls=[Progress(Outcome.IN_PROGRESS), Progress(Outcome.SUCCEEDED)])
    step = recovery(units, adapter).step
    step(run_id)
    assert step(run_id) == Envelope(run_id, RS.SUCCEEDED.value)
    assert len(adapter.begun) == 1 and len(adapter.polled) == 2
    assert step(run_id) == Envelope(run_id, RS.SUCCEEDED.value)  # a terminal run is only reported


def test_a_duplicate_delivery_of_a_start_in_progress_waits_for_its_owner(units):
    (run_id,) = running_wave(units, "scripted")
    run = units.tables.runs[run_id]
    run.status, run.start_attempts, run.heartbeat_at = RS.STARTING.value, 1, units.tables.now
    adapter = Scripted()
    assert recovery(units, adapter).step(run_id) == PollAgain(POLL)
    assert adapter.begun == [] and run.start_attempts == 1


def test_a_start_whose_worker_went_silent_is_reclaimed_and_started(units):
    (run_id,) = running_wave(units, "scripted")
    run = units.tables.runs[run_id]
    run.status, run.start_attempts, run.heartbeat_at = RS.STARTING.value, 1, units.tables.now
    units.tables.now += timedelta(seconds=CLAIM + 1)
    adapter = Scripted()
    recovery(units, adapter).step(run_id)
    assert len(adapter.begun) == 1 and run.start_attempts == 2 and run.status == RS.IN_PROGRESS


def test_a_throttled_start_gives_its_claim_back_and_the_next_delivery_starts_it(units):
    (run_id,) = running_wave(units, "scripted")
    adapter = Scripted(starts=[RetryLater("throttled", after=7)])
    step = recovery(units, adapter).step
    assert step(run_id) == PollAgain(7)
    run = units.tables.runs[run_id]
    assert run.status == RS.STARTING and run.heartbeat_at is None  # given back, not failed
    assert step(run_id) == PollAgain(TIGHT)
    assert len(adapter.begun) == 2 and run.status == RS.IN_PROGRESS


def test_an_operation_of_a_kind_that_took_20_s_before_is_looked_at_again_near_its_expected_end(units):
    (run_id,) = running_wave(units, "scripted")
    units.tables.durations[("scripted", "instantiate")] = 20.0
    adapter = Scripted(polls=[Progress(Outcome.IN_PROGRESS)] * 3)
    step = recovery(units, adapter).step
    assert step(run_id) == PollAgain(POLL)  # far from the end: the longest wait
    units.tables.now += timedelta(seconds=12)
    assert step(run_id) == PollAgain(4.0)  # wakes at 80% of the expected 20 s
    units.tables.now += timedelta(seconds=4)
    assert step(run_id) == PollAgain(TIGHT)


def test_a_throttled_poll_waits_and_never_fails_the_run(units):
    (run_id,) = running_wave(units, "scripted")
    adapter = Scripted(polls=[RetryLater("slow down")])
    assert recovery(units, adapter).step(run_id) == PollAgain(BACKOFF)
    assert status(units, run_id) == RS.IN_PROGRESS


def test_a_refused_start_fails_the_run_with_the_adapters_message(units):
    (run_id,) = running_wave(units, "scripted")
    result = recovery(units, Scripted(starts=[Failed("AccessDenied: no")])).step(run_id)
    assert result == Envelope(run_id, RS.FAILED.value)
    assert units.tables.runs[run_id].error == "AccessDenied: no"


def test_a_refusal_with_a_code_the_scheduler_acts_on_keeps_the_code_with_the_failed_run(units):
    (run_id,) = running_wave(units, "scripted")
    refusal = Failed("primary Region us-east-1 unreachable for arn:x: approve data loss to fail over", code="CODE")

    assert recovery(units, Scripted(starts=[refusal])).step(run_id) == Envelope(run_id, RS.FAILED.value)

    run = units.tables.runs[run_id]
    assert (run.error, run.error_code) == (str(refusal), "CODE")


def test_the_adapter_is_told_the_executions_failover_options(units):
    (run_id,) = running_wave(units, "scripted")
    execution = units.tables.executions[units.tables.runs[run_id].execution_id]
    execution.failover, execution.allow_data_loss = "ungraceful", True
    adapter = Scripted()

    recovery(units, adapter).step(run_id)

    assert (adapter.begun[0].failover, adapter.begun[0].allow_data_loss) == ("ungraceful", True)


def test_a_choice_the_adapter_made_when_starting_is_on_the_timeline(units):
    (run_id,) = running_wave(units, "scripted")
    adapter = Scripted(starts=[Started("op-1", {"operation": "switchover"}, decision="switchover chosen")])

    recovery(units, adapter).step(run_id)

    arn = units.tables.runs[run_id].arn
    assert [e.message for e in units.tables.events if e.kind == "resource.in_progress"] == [f"{arn}: switchover chosen"]


def test_a_pending_run_of_a_cancelling_execution_is_cancelled_without_starting(units):
    (run_id,) = running_wave(units, "scripted")
    units.tables.executions[units.tables.runs[run_id].execution_id].status = ES.CANCELLING.value
    adapter = Scripted()
    assert recovery(units, adapter).step(run_id) == Envelope(run_id, RS.CANCELLED.value)
    assert adapter.begun == []


def test_a_run_past_its_waves_timeout_is_timed_out(units):
    (run_id,) = running_wave(units, "scripted", timeout=60)
    units.tables.now += timedelta(seconds=61)
    assert recovery(units, Scripted()).step(run_id) == Envelope(run_id, RS.TIMED_OUT.value)


def test_a_run_whose_adapter_is_unknown_fails_and_names_it(units):
    (run_id,) = running_wave(units, "nosuch")
    assert recovery(units, Scripted()).step(run_id) == Envelope(run_id, RS.FAILED.value)
    assert units.tables.runs[run_id].error == "no adapter named 'nosuch'"


def test_a_missing_run_is_reported_missing(units):
    assert recovery(units, Scripted()).step(404) == Envelope(404, "MISSING")


# --- launch batches ------------------------------------------------------------------------------


def batch_of_three(units: FakeUnits) -> tuple[list[int], int]:
    runs = running_wave(units, "batching", count=3)
    with units() as uow:
        batch_id = uow.launch_batches.add(units.tables.runs[runs[0]].execution_id, 1, runs)
    return runs, batch_id


def every_member_steps_once(units: FakeUnits, adapter: Batching, runs: list[int]) -> None:
    step = recovery(units, adapter).step
    for run_id in runs:
        step(run_id)


def test_the_first_member_starts_the_whole_batch_once_and_the_others_join_it(units):
    runs, batch_id = batch_of_three(units)
    adapter = Batching()
    every_member_steps_once(units, adapter, runs)
    assert len(adapter.started) == 1
    assert [m.resource_run_id for m in adapter.started[0].members] == runs
    assert units.tables.batches[batch_id].status == BatchStatus.STARTED
    assert {status(units, r) for r in runs} == {RS.IN_PROGRESS}
    assert {units.tables.runs[r].operation_id for r in runs} == {"job-1"}


def test_batch_members_share_one_status_look_up_per_poll_interval(units):
    runs, _ = batch_of_three(units)
    adapter = Batching()
    every_member_steps_once(units, adapter, runs)
    step = recovery(units, adapter).step
    looked = len(adapter.described)
    adapter.done = set(runs)
    units.tables.now += timedelta(seconds=POLL + 1)
    assert [step(r) for r in runs] == [Envelope(r, RS.SUCCEEDED.value) for r in runs]
    assert len(adapter.described) == looked + 1


def test_a_member_waits_while_another_member_holds_the_batchs_start(units):
    runs, batch_id = batch_of_three(units)
    units.tables.batches[batch_id].status = BatchStatus.STARTING.value
    units.tables.batches[batch_id].claimed_at = units.tables.now
    adapter = Batching()
    assert recovery(units, adapter).step(runs[1]) == PollAgain(1.0)
    assert adapter.started == [] and status(units, runs[1]) == RS.STARTING


def test_a_throttled_batch_start_gives_the_batch_back_for_the_next_member(units):
    runs, batch_id = batch_of_three(units)
    adapter = Batching(starts=[RetryLater("throttled", after=3)])
    step = recovery(units, adapter).step
    assert step(runs[0]) == PollAgain(3)
    assert units.tables.batches[batch_id].status == BatchStatus.PENDING
    step(runs[1])
    assert len(adapter.started) == 2 and units.tables.batches[batch_id].status == BatchStatus.STARTED


def test_a_batch_that_cannot_start_fails_every_member_with_its_error(units):
    runs, batch_id = batch_of_three(units)
    step = recovery(units, Batching(starts=[Failed("quota exceeded")])).step
    assert [step(r) for r in runs] == [Envelope(r, RS.FAILED.value) for r in runs]
    assert {units.tables.runs[r].error for r in runs} == {"quota exceeded"}
    assert units.tables.batches[batch_id].status == BatchStatus.FAILED


def test_an_action_s_start_stays_its_owner_s_for_its_whole_timeout_so_a_duplicate_task_never_invokes_twice(units):
    (run_id,) = running_wave(units, "scripted")
    run = units.tables.runs[run_id]
    run.action = {"type": "lambda", "functionArn": "arn:aws:lambda:us-west-2:1:function:f", "timeoutSeconds": 300}
    run.status, run.start_attempts, run.heartbeat_at = RS.STARTING.value, 1, units.tables.now
    run.started_at = units.tables.now
    adapter = Scripted()
    units.tables.now += timedelta(seconds=CLAIM + 1)  # a resource's claim would be stale by now

    assert isinstance(recovery(units, adapter).step(run_id), PollAgain)
    assert adapter.begun == [] and run.start_attempts == 1

    units.tables.now += timedelta(seconds=300)  # its timeout passed: it is TIMED_OUT, never started again
    assert recovery(units, adapter).step(run_id) == Envelope(run_id, RS.TIMED_OUT.value)
    assert adapter.begun == []


class Stoppable(Scripted):
    """Scripted, and stops a timed-out operation as told (an exception: AWS refused)."""

    def __init__(self, stop: Any) -> None:
        super().__init__()
        self.stop, self.abandoned = stop, []

    def abandon(self, ctx: ResourceContext) -> str | None:
        self.abandoned.append(ctx.operation_id)
        return _play([self.stop], None)


@pytest.mark.parametrize(
    ("stop", "error"),
    [
        ("op-1 stopped", "wave timeout of 60s reached; op-1 stopped"),
        (Failed("AccessDenied"), "wave timeout of 60s reached"),  # best effort: the timeout stands
    ],
)
def test_a_run_past_its_timeout_has_its_operation_stopped_where_the_adapter_can(units, stop, error):
    (run_id,) = running_wave(units, "scripted", timeout=60)
    run = units.tables.runs[run_id]
    run.status, run.operation_id = RS.IN_PROGRESS.value, "op-1"
    adapter = Stoppable(stop)
    units.tables.now += timedelta(seconds=61)

    assert recovery(units, adapter).step(run_id) == Envelope(run_id, RS.TIMED_OUT.value)
    assert adapter.abandoned == ["op-1"] and run.error == error


class SlowAwsStart(Scripted):
    """A lone AWS start that runs ``during`` (what happens while it waits for AWS) before it answers."""

    uses_aws = True

    def __init__(self, during: Any) -> None:
        super().__init__()
        self.during = during

    def _start(self, ctx: ResourceContext) -> Started:
        if not self.begun:
            self.during()
        return super()._start(ctx)

    instantiate = activate = cleanup = replicate = _start


def test_a_slow_lone_start_keeps_its_claim_alive_so_a_redelivered_task_never_starts_it_twice(units):
    (run_id,) = running_wave(units, "scripted", timeout=86400)
    run = units.tables.runs[run_id]
    rival: list[Any] = []

    def slow_aws() -> None:  # throttled retries: the claim's age passes the claim timeout many times over
        units.tables.now += timedelta(hours=1)
        deadline = time.monotonic() + PATIENCE
        while run.heartbeat_at != units.tables.now:  # the claimant's heartbeat lands from its thread
            assert time.monotonic() < deadline, "the start claim was never kept alive"
            time.sleep(0.01)
        rival.append(hasty.step(run_id))  # the same run's task, redelivered

    adapter = SlowAwsStart(slow_aws)
    patient, hasty = (
        Recovery(units, {"scripted": adapter}, poll_interval=POLL, claim_timeout=0.3, error_backoff=BACKOFF)
        for _ in range(2)
    )

    patient.step(run_id)

    assert isinstance(rival[0], PollAgain) and len(adapter.begun) == 1
    assert (run.status, run.start_attempts, run.operation_id) == (RS.IN_PROGRESS, 1, f"op-{run_id}")
