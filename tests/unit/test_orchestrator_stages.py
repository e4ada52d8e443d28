"""The orchestrator over fake stores for a wave with actions: each stage dispatched once, in order; a stopped
wave's later stages never run."""

from __future__ import annotations

import pytest
from fakes import FakeUnits, add_execution

from services.scheduler.orchestrator import Orchestrator
from shared.domain.states import ExecutionStatus, ResourceStatus, WaveStatus
from shared.messaging import DispatchWave

ES, WS, RS = ExecutionStatus, WaveStatus, ResourceStatus
ACTION = {"type": "lambda", "functionArn": "arn:aws:lambda:us-west-2:123456789012:function:f", "timeoutSeconds": 60}


@pytest.fixture
def units() -> FakeUnits:
    return FakeUnits()


def with_actions(units: FakeUnits, on_failure: str = "continue") -> str:
    """One wave: a pre-action (stage -1), two resources (0), a post-action (1)."""
    execution_id = add_execution(units, [2], waves={1: {"on_failure": on_failure}})
    with units() as uow:
        uow.resources.insert_many(
            execution_id,
            [
                {"wave_number": 1, "arn": "action:pre", "adapter": "action-lambda", "stage": -1, "action": ACTION},
                {"wave_number": 1, "arn": "action:post", "adapter": "action-lambda", "stage": 1, "action": ACTION},
            ],
        )
    return execution_id


def end(units: FakeUnits, execution_id: str, stage: int, status: RS = RS.SUCCEEDED) -> None:
    for run in units.tables.runs.values():
        if run.execution_id == execution_id and run.stage == stage:
            run.status = status.value


def after_a_failed_pre_action(units: FakeUnits, on_failure: str) -> tuple[str, Orchestrator]:
    """An execution whose pre-action failed, advanced once since, so its wave's ``on_failure`` applied."""
    execution_id = with_actions(units, on_failure=on_failure)
    orchestrator = Orchestrator(units)
    orchestrator.advance(execution_id)
    end(units, execution_id, -1, RS.FAILED)
    orchestrator.advance(execution_id)
    return execution_id, orchestrator


def dispatched(units: FakeUnits) -> list[list[str]]:
    return [[arn for _, _, arn in m.runs] for m in units.publisher.sent if isinstance(m, DispatchWave)]


def test_each_stage_is_dispatched_once_after_the_one_before_is_terminal(units):
    execution_id = with_actions(units)
    orchestrator = Orchestrator(units)

    orchestrator.advance(execution_id)
    orchestrator.advance(execution_id)  # a duplicate callback while the pre-action runs
    end(units, execution_id, -1)
    orchestrator.advance(execution_id)
    orchestrator.advance(execution_id)
    end(units, execution_id, 0)
    orchestrator.advance(execution_id)
    end(units, execution_id, 1)
    orchestrator.advance(execution_id)

    assert dispatched(units) == [["action:pre"], ["arn:1:0", "arn:1:1"], ["action:post"]]
    assert units.tables.executions[execution_id].status == ES.COMPLETED


def test_a_lost_race_for_a_stage_does_not_dispatch_it_again(units):
    execution_id = with_actions(units)
    orchestrator = Orchestrator(units)
    orchestrator.advance(execution_id)
    end(units, execution_id, -1)
    units.tables.waves[(execution_id, 1)].stage = 0  # another scheduler moved the wave on first

    orchestrator.advance(execution_id)

    assert dispatched(units) == [["action:pre"]]


def test_an_aborted_wave_cancels_its_later_stages_and_fails_the_execution(units):
    execution_id, _ = after_a_failed_pre_action(units, on_failure="abort")

    statuses = {r.arn: r.status for r in units.tables.runs.values()}
    assert statuses == {
        "action:pre": "FAILED",
        "arn:1:0": "CANCELLED",
        "arn:1:1": "CANCELLED",
        "action:post": "CANCELLED",
    }
    assert units.tables.waves[(execution_id, 1)].status == WS.FAILED
    assert units.tables.executions[execution_id].status == ES.FAILED
    assert dispatched(units) == [["action:pre"]]


def test_a_pause_between_stages_is_passed_by_a_resume_and_closes_again_for_the_next_stage(units):
    execution_id, orchestrator = after_a_failed_pre_action(units, on_failure="pause")
    assert units.tables.executions[execution_id].status == ES.PAUSED
    with units() as uow:  # what a resume does
        uow.executions.move(execution_id, ES.PAUSED, ES.RUNNING, actor="op", message="resumed")
        uow.waves.pass_gate(execution_id, 1)
    orchestrator.advance(execution_id)
    end(units, execution_id, 0, RS.FAILED)
    orchestrator.advance(execution_id)

    assert dispatched(units) == [["action:pre"], ["arn:1:0", "arn:1:1"]]
    assert units.tables.executions[execution_id].status == ES.PAUSED
