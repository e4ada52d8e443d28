"""A launch batch never loses track of what it started (docs/architecture.md, "Launch batches"): the
claimant keeps its start claim alive while it is inside AWS, a start that lost its claim all the same
keeps its operation on record as a stray, and a later phase is told every operation, strays included."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fakes import FakeUnits, add_execution
from support import PATIENCE

from services.workers.adapters.base import BatchAdapter, BatchContext, BatchStarted, Outcome, Progress, ResourceContext
from services.workers.batches import kept_claim
from services.workers.recovery import Recovery
from services.workers.work import PollAgain
from shared.domain.batches import EarlierOperations
from shared.domain.states import BatchStatus, ResourceStatus, WaveStatus

RS = ResourceStatus
POLL, BACKOFF = 5.0, 2.0
DAY = 86400  # the waves' timeout: longer than any jump of the fake clock


class Racing(BatchAdapter):
    """A batch adapter whose first start runs ``during_first`` before it answers (what happens meanwhile)."""

    name = "batching"
    uses_aws = True
    batch_limit = 100

    def __init__(self, during_first: Callable[[], None] | None = None) -> None:
        self.during_first = during_first
        self.started: list[BatchContext] = []

    def start_batch(self, batch: BatchContext) -> BatchStarted:
        self.started.append(batch)
        number = len(self.started)
        if number == 1 and self.during_first is not None:
            self.during_first()
        members = {m.resource_run_id: Progress(Outcome.IN_PROGRESS) for m in batch.members}
        return BatchStarted(f"job-{number}", {"jobID": f"job-{number}"}, members)

    def describe_batch(self, batch: BatchContext) -> dict[str, Any]:
        return {}

    def member_status(self, view: dict[str, Any], ctx: ResourceContext) -> Progress:
        return Progress(Outcome.IN_PROGRESS)


@pytest.fixture
def units() -> FakeUnits:
    return FakeUnits()


def batch_of_two(units: FakeUnits, execution_id: str | None = None) -> tuple[str, list[int], int]:
    execution_id = execution_id or add_execution(units, [2], adapter="batching", waves={1: {"timeout_seconds": DAY}})
    wave = units.tables.waves[(execution_id, 1)]
    wave.status, wave.started_at = WaveStatus.RUNNING.value, units.tables.now
    runs = sorted(r.id for r in units.tables.runs.values() if r.execution_id == execution_id)
    with units() as uow:
        batch_id = uow.launch_batches.add(execution_id, 1, runs)
    return execution_id, runs, batch_id


def recovery(units: FakeUnits, adapter: BatchAdapter, claim_timeout: float) -> Recovery:
    return Recovery(
        units, {adapter.name: adapter}, poll_interval=POLL, claim_timeout=claim_timeout, error_backoff=BACKOFF
    )


def claim_taken_over(units: FakeUnits, uow: Any, batch_id: int) -> tuple[Any, Any]:
    """A claim of the batch's start, and the claim that took it over after an hour of silence."""
    lost = uow.launch_batches.claim_start(batch_id, 30)
    units.tables.now += timedelta(hours=1)
    return lost, uow.launch_batches.claim_start(batch_id, 30)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


def test_a_slow_batch_start_keeps_its_claim_alive_so_no_other_member_re_claims_it(units):
    _, runs, batch_id = batch_of_two(units)
    batch = units.tables.batches[batch_id]
    rival: list[Any] = []

    def slow_aws() -> None:  # long throttled retries: the claim's age passes the claim timeout many times over
        units.tables.now += timedelta(hours=1)
        wait_until(lambda: batch.claimed_at == units.tables.now)  # the claimant's heartbeat landed
        rival.append(recovery(units, adapter, claim_timeout=0.3).step(runs[1]))

    adapter = Racing(during_first=slow_aws)
    recovery(units, adapter, claim_timeout=0.3).step(runs[0])

    assert rival == [PollAgain(1.0)]
    assert len(adapter.started) == 1
    assert (batch.status, batch.start_attempts, batch.operation_id) == (BatchStatus.STARTED, 1, "job-1")
    assert units.tables.runs[runs[0]].heartbeat_at == units.tables.now  # the claimant's run was kept alive too


def test_a_start_that_lost_its_claim_keeps_the_operation_it_started_on_record_as_a_stray(units):
    execution_id, runs, batch_id = batch_of_two(units)

    def taken_over() -> None:  # the claimant went silent long enough for another member to re-claim the start
        units.tables.now += timedelta(hours=1)
        recovery(units, adapter, claim_timeout=30).step(runs[1])

    adapter = Racing(during_first=taken_over)
    recovery(units, adapter, claim_timeout=30).step(runs[0])

    batch = units.tables.batches[batch_id]
    assert (batch.status, batch.start_attempts, batch.operation_id) == (BatchStatus.STARTED, 2, "job-2")
    assert batch.detail == {"jobID": "job-2", "strays": [{"operationId": "job-1", "attempt": 1, "jobID": "job-1"}]}
    assert "batch.stray" in units.tables.kinds(execution_id)
    assert {units.tables.runs[r].operation_id for r in runs} == {"job-2"}  # both members follow the recorded job


def test_a_stray_recorded_before_the_winning_claim_records_its_start_stays_on_record(units):
    _, _, batch_id = batch_of_two(units)
    with units() as uow:
        lost, won = claim_taken_over(units, uow, batch_id)
        uow.launch_batches.record_stray(batch_id, lost.start_attempts, operation_id="job-1", detail={}, actor="t")
        uow.launch_batches.record_start(
            batch_id,
            won.start_attempts,
            operation_id="job-2",
            detail={"jobID": "job-2"},
            outcomes={},
            actor="t",
            message="m",
        )
        batch = uow.launch_batches.get(batch_id)

    assert batch.detail == {"jobID": "job-2", "strays": [{"operationId": "job-1", "attempt": 1}]}
    assert EarlierOperations.of(["ex"], [batch]).operation_ids == ("job-2", "job-1")


def test_a_cleanup_is_told_every_operation_of_the_execution_it_follows_strays_included(units):
    drill_id, _, drill_batch = batch_of_two(units)
    drilled = units.tables.batches[drill_batch]
    drilled.status, drilled.operation_id = BatchStatus.STARTED.value, "job-2"
    drilled.detail = {"jobID": "job-2", "strays": [{"operationId": "job-1", "attempt": 1}]}
    units.tables.executions[drill_id].status = "COMPLETED"
    cleanup_id = add_execution(units, [2], adapter="batching", waves={1: {"timeout_seconds": DAY}})
    units.tables.executions[cleanup_id].source_execution_id = drill_id
    units.tables.executions[cleanup_id].phase = "cleanup"
    _, runs, _ = batch_of_two(units, cleanup_id)
    adapter = Racing()

    recovery(units, adapter, claim_timeout=30).step(runs[0])

    (started,) = adapter.started
    assert started.phase == "cleanup"
    assert started.earlier == EarlierOperations((drill_id,), ("job-2", "job-1"))


def test_the_claim_keeper_never_refreshes_a_claim_another_member_took_over(units):
    _, runs, batch_id = batch_of_two(units)
    with units() as uow:
        lost, taken = claim_taken_over(units, uow, batch_id)
    units.tables.now += timedelta(minutes=1)
    run = units.tables.runs[runs[0]]

    with kept_claim(units, lost, runs[0], every=0.01):
        wait_until(lambda: run.heartbeat_at == units.tables.now)  # it has beaten once

    assert units.tables.batches[batch_id].claimed_at == taken.claimed_at
