"""The pure rules of retry and skip (shared/domain/retry.py) and the SKIPPED status in a wave's outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from shared.domain import errors
from shared.domain.progress import WaveSnapshot, wave_outcome
from shared.domain.retry import RunRef, attempts_of, check_skip, plan_retry
from shared.domain.states import ExecutionStatus, ResourceStatus, WaveStatus

ES, WS, RS = ExecutionStatus, WaveStatus, ResourceStatus


def runs(*specs: tuple[int, str, RS]) -> list[RunRef]:
    return [RunRef(i, wave, arn, status) for i, (wave, arn, status) in enumerate(specs, start=1)]


PAUSED_AFTER_WAVE_1 = runs((1, "db", RS.FAILED), (1, "db-ok", RS.SUCCEEDED), (2, "app", RS.PENDING))


def test_a_retry_gives_every_failed_or_timed_out_run_a_new_attempt_and_reruns_their_waves():
    all_runs = runs((1, "a", RS.FAILED), (1, "b", RS.SUCCEEDED), (2, "c", RS.TIMED_OUT), (3, "d", RS.SUCCEEDED))
    waves = {1: WS.COMPLETED_WITH_FAILURES, 2: WS.FAILED, 3: WS.SUCCEEDED}
    plan = plan_retry("ex-1", ES.COMPLETED_WITH_FAILURES, waves, all_runs)
    assert [r.arn for r in plan.retried] == ["a", "c"]
    assert plan.waves == ((1, WS.COMPLETED_WITH_FAILURES), (2, WS.FAILED))
    assert plan.reopened == ()


def test_a_retry_of_listed_arns_retries_only_those():
    all_runs = runs((1, "a", RS.FAILED), (2, "c", RS.FAILED))
    plan = plan_retry("ex-1", ES.FAILED, {1: WS.FAILED, 2: WS.FAILED}, all_runs, ["c"])
    assert [r.arn for r in plan.retried] == ["c"] and plan.waves == ((2, WS.FAILED),)


def test_a_retry_after_an_abort_runs_the_skipped_waves_again():
    all_runs = runs((1, "db", RS.FAILED), (1, "db-ok", RS.SUCCEEDED), (2, "app", RS.CANCELLED))
    plan = plan_retry("ex-1", ES.FAILED, {1: WS.COMPLETED_WITH_FAILURES, 2: WS.SKIPPED}, all_runs)
    assert [r.arn for r in plan.reopened] == ["app"]
    assert plan.waves == ((1, WS.COMPLETED_WITH_FAILURES), (2, WS.SKIPPED))
    assert plan.arns == ["db", "app"]


def test_a_paused_execution_retries_the_failures_of_the_wave_it_paused_after():
    plan = plan_retry("ex-1", ES.PAUSED, {1: WS.COMPLETED_WITH_FAILURES, 2: WS.PENDING}, PAUSED_AFTER_WAVE_1)
    assert [r.arn for r in plan.retried] == ["db"] and plan.waves == ((1, WS.COMPLETED_WITH_FAILURES),)


def test_nothing_to_retry_when_no_run_failed():
    with pytest.raises(errors.NothingToRetry):
        done = runs((1, "a", RS.SUCCEEDED), (2, "b", RS.PENDING))
        plan_retry("ex-1", ES.PAUSED, {1: WS.SUCCEEDED, 2: WS.PENDING}, done)


@pytest.mark.parametrize("status", [ES.RUNNING, ES.PENDING, ES.COMPLETED, ES.CANCELLED, ES.CANCELLING])
def test_only_a_paused_or_failed_execution_can_be_retried(status):
    with pytest.raises(errors.ExecutionNotRetryable) as refused:
        plan_retry("ex-1", status, {1: WS.FAILED}, runs((1, "a", RS.FAILED)))
    assert refused.value.details == {"status": status.value}


def test_a_listed_arn_the_execution_does_not_have_is_named_with_the_resources_field():
    with pytest.raises(errors.ResourceNotInExecution) as refused:
        plan_retry("ex-1", ES.PAUSED, {1: WS.FAILED}, PAUSED_AFTER_WAVE_1, ["db", "nope"])
    assert refused.value.details == {"field": "resources", "arns": ["nope"]}


def test_a_listed_arn_that_succeeded_is_refused_and_never_started_again():
    with pytest.raises(errors.ResourceNotFailed) as refused:
        plan_retry("ex-1", ES.PAUSED, {1: WS.FAILED}, PAUSED_AFTER_WAVE_1, ["db-ok"])
    assert refused.value.details["field"] == "resources" and refused.value.details["status"] == "SUCCEEDED"


def test_only_a_failed_or_timed_out_run_can_be_skipped():
    check_skip("a", RS.FAILED)
    check_skip("a", RS.TIMED_OUT)
    for status in (RS.SUCCEEDED, RS.PENDING, RS.IN_PROGRESS, RS.CANCELLED, RS.SKIPPED):
        with pytest.raises(errors.ResourceNotFailed) as refused:
            check_skip("a", status)
        assert refused.value.details["field"] == "arn"


def test_a_skipped_run_counts_as_accepted_for_its_waves_outcome():
    # 2 runs: one SUCCEEDED, one SKIPPED -> neither failed nor cancelled
    assert wave_outcome(WaveSnapshot(1, "db", WS.RUNNING, total=2, failed=0)) is WS.SUCCEEDED
    assert wave_outcome(WaveSnapshot(1, "db", WS.RUNNING, total=2, failed=1)) is WS.COMPLETED_WITH_FAILURES


def test_the_attempts_of_a_run_are_its_earlier_attempts_then_the_current_one():
    at = datetime(2026, 1, 1, tzinfo=UTC)
    earlier = {"attempt": 1, "status": "FAILED", "error": "boom", "operationId": "op-1"}
    earlier |= {"startedAt": "2026-01-01T00:00:00+00:00", "finishedAt": "2026-01-01T00:00:01+00:00"}
    current = {"status": "SUCCEEDED", "error": None, "operation_id": "op-2", "started_at": at, "finished_at": at}
    run = SimpleNamespace(attempt=2, attempts=[earlier], **current)
    assert attempts_of(run) == [
        earlier,
        {
            "attempt": 2,
            "status": "SUCCEEDED",
            "error": None,
            "operationId": "op-2",
            "startedAt": at.isoformat(),
            "finishedAt": at.isoformat(),
        },
    ]
