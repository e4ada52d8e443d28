import itertools

import pytest

from shared.domain.states import (
    BATCH_MOVES,
    EXECUTION_MOVES,
    RESOURCE_MOVES,
    WAVE_MOVES,
    BatchStatus,
    ExecutionStatus,
    IllegalTransition,
    ResourceStatus,
    WaveStatus,
    check_move,
)

MACHINES = [
    (ExecutionStatus, EXECUTION_MOVES),
    (WaveStatus, WAVE_MOVES),
    (ResourceStatus, RESOURCE_MOVES),
    (BatchStatus, BATCH_MOVES),
]
ALL_PAIRS = [(enum, moves, a, b) for enum, moves in MACHINES for a, b in itertools.product(enum, enum)]


@pytest.mark.parametrize(("enum", "moves", "current", "target"), ALL_PAIRS)
def test_every_move_is_allowed_exactly_when_the_table_lists_it(enum, moves, current, target):
    if target in moves.get(current, ()):
        assert check_move(current, target) is target
    else:
        with pytest.raises(IllegalTransition):
            check_move(current, target)


@pytest.mark.parametrize("terminal", [ExecutionStatus.COMPLETED, ExecutionStatus.CANCELLED])
def test_a_completed_or_cancelled_execution_never_moves_again(terminal):
    for target in ExecutionStatus:
        with pytest.raises(IllegalTransition):
            check_move(terminal, target)


@pytest.mark.parametrize("finished", [ExecutionStatus.COMPLETED_WITH_FAILURES, ExecutionStatus.FAILED])
def test_an_execution_that_finished_with_failures_can_only_be_retried_to_running(finished):
    assert EXECUTION_MOVES[finished] == {ExecutionStatus.RUNNING}


def test_a_failed_resource_run_can_only_get_a_new_attempt_or_be_skipped():
    for failed in (ResourceStatus.FAILED, ResourceStatus.TIMED_OUT):
        assert RESOURCE_MOVES[failed] == {ResourceStatus.PENDING, ResourceStatus.SKIPPED}


def test_a_succeeded_or_skipped_resource_run_never_moves_again():
    for done in (ResourceStatus.SUCCEEDED, ResourceStatus.SKIPPED):
        for target in ResourceStatus:
            with pytest.raises(IllegalTransition):
                check_move(done, target)


def test_a_wave_that_succeeded_never_runs_again_and_a_skip_can_only_improve_an_outcome():
    for target in WaveStatus:
        with pytest.raises(IllegalTransition):
            check_move(WaveStatus.SUCCEEDED, target)
    with pytest.raises(IllegalTransition):
        check_move(WaveStatus.COMPLETED_WITH_FAILURES, WaveStatus.FAILED)


def test_a_paused_execution_can_only_resume_or_be_cancelled():
    assert EXECUTION_MOVES[ExecutionStatus.PAUSED] == {ExecutionStatus.RUNNING, ExecutionStatus.CANCELLING}


def test_a_resource_cannot_succeed_without_having_been_started():
    with pytest.raises(IllegalTransition):
        check_move(ResourceStatus.PENDING, ResourceStatus.SUCCEEDED)


def test_moving_between_different_machines_is_a_type_error():
    with pytest.raises(TypeError):
        check_move(ExecutionStatus.RUNNING, WaveStatus.RUNNING)


def test_every_compare_and_set_is_built_from_the_move_table():
    from sqlalchemy import column

    from shared.store.transition import guard

    where = guard(column("status"), WaveStatus.PENDING, WaveStatus.RUNNING)
    assert str(where) == "status = :status_1" and where.compile().params == {"status_1": "PENDING"}
    with pytest.raises(IllegalTransition):
        guard(column("status"), WaveStatus.SUCCEEDED, WaveStatus.RUNNING)
