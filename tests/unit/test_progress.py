import pytest
from snapshots import execution, wave

from shared.domain.progress import (
    Finish,
    FinishWave,
    OnFailure,
    Pause,
    Phase,
    SkipWave,
    StartWave,
    Wait,
    WaveSnapshot,
    after,
    next_step,
    run_order,
    wave_outcome,
)
from shared.domain.states import ExecutionStatus as ES
from shared.domain.states import WaveStatus as WS


def test_a_new_execution_starts_its_first_wave():
    assert next_step(execution(wave(1), wave(2))) == StartWave(1)


def test_a_running_wave_with_unfinished_resources_means_wait():
    assert next_step(execution(wave(1, WS.RUNNING, unfinished=1), wave(2))) == Wait()


def test_a_running_wave_whose_resources_all_finished_is_finished_with_its_outcome():
    assert next_step(execution(wave(1, WS.RUNNING, unfinished=0, failed=1), wave(2))) == FinishWave(
        1, WS.COMPLETED_WITH_FAILURES
    )


def test_the_next_wave_starts_only_after_the_previous_one_is_terminal():
    assert next_step(execution(wave(1, WS.SUCCEEDED), wave(2))) == StartWave(2)


def test_pause_before_wave_parks_the_execution_before_that_wave():
    step = next_step(execution(wave(1, WS.SUCCEEDED), wave(2, pause_before=True)))
    assert isinstance(step, Pause) and step.before_wave == 2


def test_pause_before_the_first_wave_parks_before_anything_runs():
    step = next_step(execution(wave(1, pause_before=True)))
    assert isinstance(step, Pause) and step.before_wave == 1


def test_a_passed_gate_is_not_hit_again_after_resume():
    assert next_step(execution(wave(1, WS.SUCCEEDED), wave(2, pause_before=True, gate_passed=True))) == StartWave(2)


def test_a_pause_request_parks_after_the_current_wave():
    step = next_step(execution(wave(1, WS.SUCCEEDED), wave(2), pause_requested=True))
    assert isinstance(step, Pause) and step.before_wave == 2 and step.reason == "pause requested"


def test_a_pause_requested_before_a_gate_is_the_gate_s_pause_with_its_approval_request():
    step = next_step(execution(wave(1, WS.SUCCEEDED), wave(2, pause_before=True), pause_requested=True))
    assert step == Pause(2, "approval required before wave 2 'w2'", gate=True)


def test_failures_with_continue_go_on_to_the_next_wave():
    assert next_step(execution(wave(1, WS.COMPLETED_WITH_FAILURES), wave(2))) == StartWave(2)


def test_failures_with_pause_park_the_execution_for_a_human():
    step = next_step(execution(wave(1, WS.FAILED, on_failure=OnFailure.PAUSE), wave(2)))
    assert isinstance(step, Pause) and step.before_wave == 2


def test_failures_with_abort_fail_the_execution_and_skip_later_waves():
    step = next_step(execution(wave(1, WS.FAILED, on_failure=OnFailure.ABORT), wave(2), wave(3)))
    assert isinstance(step, Finish)
    assert step.status is ES.FAILED and step.remaining == (2, 3) and step.remaining_status is WS.SKIPPED


def test_abort_on_the_last_wave_fails_the_execution():
    step = next_step(execution(wave(1, WS.SUCCEEDED), wave(2, WS.FAILED, on_failure=OnFailure.ABORT)))
    assert isinstance(step, Finish) and step.status is ES.FAILED


def test_an_empty_wave_is_skipped_with_a_reason():
    assert next_step(execution(wave(1, WS.SUCCEEDED), wave(2, total=0))) == SkipWave(2, "no resources in this wave")


def test_all_waves_succeeded_completes_the_execution():
    step = next_step(execution(wave(1, WS.SUCCEEDED), wave(2, WS.SKIPPED, total=0)))
    assert isinstance(step, Finish) and step.status is ES.COMPLETED


def test_any_wave_with_failures_completes_with_failures():
    step = next_step(execution(wave(1, WS.COMPLETED_WITH_FAILURES), wave(2, WS.SUCCEEDED)))
    assert isinstance(step, Finish) and step.status is ES.COMPLETED_WITH_FAILURES


def test_cancelling_waits_for_resources_in_flight():
    assert next_step(execution(wave(1, WS.RUNNING, unfinished=1), wave(2), status=ES.CANCELLING)) == Wait()


def test_cancelling_cancels_every_wave_not_yet_started():
    step = next_step(execution(wave(1, WS.SUCCEEDED), wave(2), wave(3), status=ES.CANCELLING))
    assert isinstance(step, Finish)
    assert step.status is ES.CANCELLED and step.remaining == (2, 3) and step.remaining_status is WS.CANCELLED


def test_a_paused_or_finished_execution_waits():
    for status in (ES.PAUSED, ES.PENDING, ES.COMPLETED, ES.CANCELLED):
        assert next_step(execution(wave(1), status=status)) == Wait()


def test_cleanup_runs_waves_in_descending_order():
    assert run_order(Phase.CLEANUP, [1, 3, 2]) == [3, 2, 1]
    assert run_order(Phase.INSTANTIATE, [3, 1, 2]) == [1, 2, 3]
    assert next_step(execution(wave(1), wave(2), wave(3), phase=Phase.CLEANUP)) == StartWave(3)


def test_wave_outcome_distinguishes_all_failed_from_some_failed():
    assert wave_outcome(wave(1, WS.RUNNING, total=2, unfinished=0, failed=2)) is WS.FAILED
    assert wave_outcome(wave(1, WS.RUNNING, total=2, unfinished=0, failed=1)) is WS.COMPLETED_WITH_FAILURES
    assert wave_outcome(wave(1, WS.RUNNING, total=2, unfinished=0)) is WS.SUCCEEDED
    assert wave_outcome(wave(1, WS.RUNNING, total=2, unfinished=0, cancelled=1)) is WS.CANCELLED


def test_after_a_finished_wave_the_next_decision_matches_a_fresh_read():
    running = execution(wave(1, WS.RUNNING, unfinished=0), wave(2), wave(3, pause_before=True))
    step = next_step(running)
    assert step == FinishWave(1, WS.SUCCEEDED)
    assert next_step(after(running, step)) == next_step(
        execution(wave(1, WS.SUCCEEDED), wave(2), wave(3, pause_before=True))
    )
    assert next_step(after(running, step)) == StartWave(2)


def test_after_a_skipped_wave_the_next_wave_is_considered():
    snapshot = execution(wave(1, WS.SUCCEEDED), wave(2, total=0), wave(3))
    step = next_step(snapshot)
    assert step == SkipWave(2, "no resources in this wave")
    assert next_step(after(snapshot, step)) == StartWave(3)


def test_after_a_failed_wave_with_abort_the_execution_fails():
    snapshot = execution(wave(1, WS.RUNNING, unfinished=0, failed=2, on_failure=OnFailure.ABORT), wave(2))
    step = next_step(snapshot)
    final = next_step(after(snapshot, step))
    assert isinstance(final, Finish) and final.status is ES.FAILED and final.remaining == (2,)


# --- data loss pauses (Aurora: graceful, then ungraceful) -------------------------------------------

REASON = "primary Region us-east-1 unreachable for arn:aws:rds:us-west-2:1:cluster:c: approve data loss to fail over"


def waiting(number, status=WS.COMPLETED_WITH_FAILURES, clusters=1, **kw) -> WaveSnapshot:
    return wave(number, status, failed=clusters, awaiting_data_loss=clusters, data_loss_reason=REASON, **kw)


@pytest.mark.parametrize("on_failure", list(OnFailure))
def test_a_cluster_awaiting_data_loss_parks_the_execution_before_the_next_wave_whatever_on_failure(on_failure):
    step = next_step(execution(waiting(1, on_failure=on_failure), wave(2)))

    assert step == Pause(2, REASON, data_loss_of_wave=1)


def test_a_last_wave_awaiting_data_loss_parks_the_execution_at_itself():
    assert next_step(execution(wave(1, WS.SUCCEEDED), waiting(2, WS.FAILED))) == Pause(2, REASON, data_loss_of_wave=2)


def test_more_clusters_awaiting_data_loss_are_counted_in_the_reason():
    step = next_step(execution(waiting(1, clusters=3), wave(2)))

    assert step.reason == f"{REASON} (and 2 more clusters of wave 1)"


def test_a_wave_whose_clusters_were_asked_goes_on_by_its_on_failure():
    assert next_step(execution(wave(1, WS.FAILED, failed=2, on_failure=OnFailure.ABORT), wave(2))).status is ES.FAILED


def test_a_cancelling_execution_is_not_paused_for_data_loss():
    step = next_step(execution(waiting(1), wave(2), status=ES.CANCELLING))

    assert isinstance(step, Finish) and step.status is ES.CANCELLED
