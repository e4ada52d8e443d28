"""Wave actions, pure: stages, the runs of a wave's actions, what an action is told, how much of its
answer is kept; and how a wave with actions moves from stage to stage (next_step)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from pydantic import ValidationError
from snapshots import execution

from services.api.errors import field_path
from services.api.schemas import PlanCreate
from shared.domain.actions import (
    OUTPUT_LIMIT,
    When,
    context,
    lambda_payload,
    runs_for_wave,
    ssm_parameters,
    stage_of,
    truncated,
)
from shared.domain.progress import (
    Finish,
    FinishWave,
    OnFailure,
    Pause,
    StageCounts,
    StartStage,
    StartWave,
    StopWave,
    Wait,
    WaveSnapshot,
    after,
    next_step,
)
from shared.domain.states import ExecutionStatus as ES
from shared.domain.states import WaveStatus as WS

FUNCTION = "arn:aws:lambda:us-west-2:123456789012:function:check"
LAMBDA = {"type": "lambda", "functionArn": FUNCTION, "payload": {"k": 1}, "timeoutSeconds": 300}
SSM = {"type": "ssm-automation", "documentName": "smoke", "parameters": {"Target": ["web"]}, "timeoutSeconds": 60}


def test_pre_actions_take_the_negative_stages_in_order_and_post_actions_follow_the_resources():
    assert [stage_of(When.PRE, i, 3) for i in range(3)] == [-3, -2, -1]
    assert [stage_of(When.POST, i, 2) for i in range(2)] == [1, 2]


def test_a_wave_s_actions_become_runs_named_uniquely_with_their_spec():
    runs = runs_for_wave(2, [LAMBDA, LAMBDA], [SSM], region="eu-west-1", account_id="111122223333")
    assert [(r["stage"], r["adapter"]) for r in runs] == [
        (-2, "action-lambda"),
        (-1, "action-lambda"),
        (1, "action-ssm"),
    ]
    assert len({r["arn"] for r in runs}) == 3 and runs[0]["arn"] == f"action:wave2:pre1:lambda:{FUNCTION}"
    assert runs[2]["action"] == {
        **SSM,
        "when": "post",
        "index": 1,
        "region": "eu-west-1",
        "accountId": "111122223333",
        "planField": "waves[1].postActions[0]",
    }
    assert runs_for_wave(3, [LAMBDA], [], where="autoWaves.waveActions[0]")[0]["action"]["planField"] == (
        "autoWaves.waveActions[0].preActions[0]"
    )
    assert "region" not in runs[0]["action"]  # a function's region is in its ARN


def test_an_ssm_action_runs_in_its_own_region_or_its_document_arn_s_before_the_wave_s():
    own = runs_for_wave(1, [], [{**SSM, "region": "us-east-2"}], region="eu-west-1")[0]["action"]
    shared = {**SSM, "documentName": "arn:aws:ssm:ap-south-1:111122223333:document/Shared"}
    by_arn = runs_for_wave(1, [shared], [], region="eu-west-1")[0]["action"]
    assert own["region"] == "us-east-2" and by_arn["region"] == "ap-south-1"


def test_a_lambda_action_is_told_the_execution_its_mode_phase_and_wave_beside_its_payload():
    told = context("ex-1", "drill", "instantiate", 3, "pre")
    event = json.loads(lambda_payload(LAMBDA, told))
    assert event == {
        "k": 1,
        "drwave": {"executionId": "ex-1", "mode": "drill", "phase": "instantiate", "wave": 3, "when": "pre"},
    }


def test_an_ssm_action_gets_the_context_as_one_json_string_only_when_its_document_declares_drwave():
    told = context("ex-1", "recovery", "activate", 1, "post")
    declared = ssm_parameters(SSM, told, {"drwave", "Target"})
    assert declared["Target"] == ["web"] and json.loads(declared["drwave"][0])["mode"] == "recovery"
    assert ssm_parameters(SSM, told, {"Target"}) == {"Target": ["web"]}


def test_an_answer_is_kept_up_to_4_kb_without_cutting_a_character_in_half():
    assert truncated("short") == ("short", False)
    kept, cut = truncated("é" * OUTPUT_LIMIT)
    assert cut and len(kept.encode()) <= OUTPUT_LIMIT and set(kept) == {"é"}


# --- stages in next_step -------------------------------------------------------------------------


def staged(status=WS.RUNNING, stage=-1, on_failure=OnFailure.CONTINUE, passed_stage=None, **counts) -> WaveSnapshot:
    """A wave with one pre-action (-1), two resources (0) and one post-action (1); counts by stage:
    ``pre=(unfinished, failed)``."""
    stages = []
    for number, key, total in ((-1, "pre", 1), (0, "resources", 2), (1, "post", 1)):
        unfinished, failed = counts.get(key, (total, 0))
        stages.append(StageCounts(number, total, unfinished, failed))
    return WaveSnapshot.of_stages(
        1, "App", status, stages, on_failure=on_failure, passed_stage=passed_stage, stage=stage
    )


def test_a_wave_with_actions_starts_with_its_first_stage():
    assert next_step(execution(staged(WS.PENDING, stage=None))) == StartWave(1, -1)


def test_the_resources_wait_until_the_pre_action_is_terminal():
    assert next_step(execution(staged())) == Wait()


def test_the_next_stage_starts_when_the_current_one_is_terminal():
    assert next_step(execution(staged(pre=(0, 0)))) == StartStage(1, 0, -1)
    assert next_step(execution(staged(stage=0, pre=(0, 0), resources=(0, 0)))) == StartStage(1, 1, 0)


def test_the_wave_finishes_when_its_last_stage_is_terminal_and_counts_action_failures():
    wave = staged(stage=1, pre=(0, 0), resources=(0, 0), post=(0, 1))
    assert next_step(execution(wave)) == FinishWave(1, WS.COMPLETED_WITH_FAILURES)


def test_a_failed_pre_action_with_continue_goes_on_to_the_resources():
    assert next_step(execution(staged(pre=(0, 1)))) == StartStage(1, 0, -1)


def test_a_failed_pre_action_with_pause_parks_before_the_resources_until_resumed():
    step = next_step(execution(staged(pre=(0, 1), on_failure=OnFailure.PAUSE)))
    assert isinstance(step, Pause) and step.before_wave == 1
    assert step.reason == "wave 1 'App': pre-action 1 failed (before resources)"
    resumed = staged(pre=(0, 1), on_failure=OnFailure.PAUSE, passed_stage=-1)
    assert next_step(execution(resumed)) == StartStage(1, 0, -1)


def test_a_failed_pre_action_with_abort_stops_the_wave_and_then_fails_the_execution():
    snapshot = execution(staged(pre=(0, 1), on_failure=OnFailure.ABORT))
    step = next_step(snapshot)
    assert step == StopWave(1, WS.FAILED, "wave 1 'App': pre-action 1 failed and onFailure is abort", -1)
    final = next_step(after(snapshot, step))
    assert isinstance(final, Finish) and final.status is ES.FAILED


def test_failed_resources_with_pause_park_before_the_post_actions():
    step = next_step(execution(staged(stage=0, pre=(0, 0), resources=(0, 1), on_failure=OnFailure.PAUSE)))
    assert isinstance(step, Pause) and step.reason == "wave 1 'App': resources failed (before post-action 1)"


def test_a_cancel_stops_a_wave_between_stages_and_waits_for_a_stage_in_flight():
    assert next_step(execution(staged(), status=ES.CANCELLING)) == Wait()
    step = next_step(execution(staged(pre=(0, 0)), status=ES.CANCELLING))
    assert step == StopWave(1, WS.CANCELLED, "cancelled", -1)


def test_a_wave_of_resources_only_runs_at_once_as_before():
    wave = WaveSnapshot.of_stages(1, "R", WS.PENDING, [StageCounts(0, 3, 3)])
    assert next_step(execution(wave)) == StartWave(1)


# --- the plan schema -----------------------------------------------------------------------------


def plan_with(**wave) -> dict:
    return {"name": "p", "waves": [{"name": "w1"}, {"name": "w2", **wave}]}


def problem(data) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        PlanCreate.model_validate(data)
    first = caught.value.errors()[0]
    return field_path(first["loc"]), first["msg"]


def test_a_plan_keeps_its_actions_with_their_default_timeouts():
    plan = PlanCreate.model_validate(
        plan_with(preActions=[{"type": "lambda", "functionArn": FUNCTION}], postActions=[{**SSM, "timeoutSeconds": 90}])
    )
    stored = plan.waves[1].model_dump(by_alias=True, mode="json")
    assert stored["preActions"] == [{"type": "lambda", "functionArn": FUNCTION, "payload": {}, "timeoutSeconds": 300}]
    assert stored["postActions"][0]["timeoutSeconds"] == 90 and stored["postActions"][0]["parameters"] == {
        "Target": ["web"]
    }


def test_an_ssm_parameter_given_as_one_string_is_a_list_of_one():
    plan = PlanCreate.model_validate(plan_with(postActions=[{**SSM, "parameters": {"Target": "db"}}]))
    assert plan.waves[1].post_actions[0].parameters == {"Target": ["db"]}


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"type": "lambda", "functionArn": "arn:aws:s3:::bucket"}, "waves[1].preActions[0].functionArn"),
        ({"type": "lambda"}, "waves[1].preActions[0].functionArn"),
        ({**LAMBDA, "timeoutSeconds": 901}, "waves[1].preActions[0].timeoutSeconds"),
        ({**LAMBDA, "timeoutSeconds": 0}, "waves[1].preActions[0].timeoutSeconds"),
        ({**LAMBDA, "payload": {"drwave": {}}}, "waves[1].preActions[0].payload"),
        ({**SSM, "timeoutSeconds": 48 * 3600 + 1}, "waves[1].preActions[0].timeoutSeconds"),
        ({**SSM, "documentName": "a b"}, "waves[1].preActions[0].documentName"),
        ({**SSM, "parameters": {"drwave": ["x"]}}, "waves[1].preActions[0].parameters"),
        ({**SSM, "functionArn": FUNCTION}, "waves[1].preActions[0].functionArn"),
        ({"type": "webhook"}, "waves[1].preActions[0]"),
    ],
)
def test_a_bad_action_is_refused_naming_its_field(action, field):
    assert problem(plan_with(preActions=[action]))[0] == field


def test_a_wave_takes_at_most_ten_actions_before_and_ten_after():
    assert problem(plan_with(postActions=[LAMBDA] * 11))[0] == "waves[1].postActions"


def test_stages_a_retry_left_terminal_are_passed_over():
    retried_post = staged(WS.PENDING, stage=None, pre=(0, 0), resources=(0, 0), post=(1, 0))
    assert next_step(execution(retried_post)) == StartWave(1, 1)
    retried_pre = staged(stage=-1, pre=(0, 0), resources=(0, 0), post=(0, 0))
    assert next_step(execution(retried_pre)) == FinishWave(1, WS.SUCCEEDED)


def test_a_cluster_awaiting_a_data_loss_approval_is_asked_about_before_the_post_actions_whatever_on_failure():
    reason = "primary Region us-east-1 unreachable for arn:c: approve data loss to fail over"
    for on_failure in OnFailure:
        wave = replace(
            staged(stage=0, pre=(0, 0), resources=(0, 1), on_failure=on_failure),
            awaiting_data_loss=1,
            data_loss_reason=reason,
        )
        step = next_step(execution(wave))
        assert step == Pause(1, f"{reason} (before post-action 1)", data_loss_of_wave=1), on_failure
    asked = staged(stage=0, pre=(0, 0), resources=(0, 1), on_failure=OnFailure.PAUSE, passed_stage=0)
    assert next_step(execution(asked)) == StartStage(1, 1, 0)  # asked once: a plain resume goes on
