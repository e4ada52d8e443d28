"""Pre- and post-wave actions through the API, scheduler and workers, on the local AWS over HTTP: a Lambda
function invoked before a wave's resources, an SSM Automation after them (docs/architecture.md, "Wave
actions")."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from support import lambda_zip, sim

ACCOUNT, DR = "123456789012", "us-west-2"
TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}


@pytest.fixture
def function(aws):
    """``function(error=None)``: a Lambda function in the DR region (``error``: it raises that)."""
    iam = aws("iam")
    role = iam.create_role(RoleName=f"fn-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

    def make(error: str | None = None, name: str = "check") -> str:
        variables = {"LOCALAWS_ERROR": error} if error else {}
        return aws("lambda").create_function(
            FunctionName=f"{name}-{uuid.uuid4().hex[:8]}",
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": lambda_zip("event")},
            Environment={"Variables": variables},
        )["FunctionArn"]

    return make


@pytest.fixture
def document(aws):
    """``document(outcome="Success", seconds=0)``: an Automation document in the DR region that declares
    the ``drwave`` parameter and ends with ``outcome`` after ``seconds``."""

    def make(outcome: str = "Success", seconds: int = 0, name: str = "smoke") -> str:
        steps: list[dict[str, Any]] = [{"name": "wait", "action": "aws:sleep", "inputs": {"Duration": f"PT{seconds}S"}}]
        steps.append(
            {
                "name": "test",
                "action": "aws:executeScript",
                "inputs": {"LocalAwsOutcome": outcome, "Message": "tested {{ drwave }} on {{ Target }}"},
            }
        )
        content = {
            "schemaVersion": "0.3",
            "parameters": {"drwave": {"type": "String"}, "Target": {"type": "String", "default": "all"}},
            "mainSteps": steps,
        }
        doc = f"{name}-{uuid.uuid4().hex[:8]}"
        aws("ssm").create_document(
            Name=doc, Content=json.dumps(content), DocumentType="Automation", DocumentFormat="JSON"
        )
        return doc

    return make


def _runs(execution: dict[str, Any]) -> list[dict[str, Any]]:
    return [run for wave in execution["waves"] for run in wave["resources"]]


def _finished_order(api, execution_id: str) -> list[str]:
    """The runs in the order the timeline recorded their ends."""
    events = api.get(f"/v1/executions/{execution_id}/events?limit=5000")["items"]
    return [e["resourceArn"] for e in events if e["kind"].startswith("resource.") and e["resourceArn"]]


def test_a_lambda_pre_action_runs_before_the_resources_and_an_ssm_post_action_after_them(
    api, localaws, function, document
):
    check, smoke = function(), document(seconds=1)
    resources = [sim("app-1", ms=300), sim("app-2", ms=300)]
    plan = api.plan(
        [
            {
                "name": "App",
                "arns": resources,
                "preActions": [{"type": "lambda", "functionArn": check, "payload": {"check": "dns"}}],
                "postActions": [{"type": "ssm-automation", "documentName": smoke, "parameters": {"Target": "app"}}],
            }
        ]
    )

    execution_id = api.start(plan, mode="drill")
    done = api.wait(execution_id)

    assert done["status"] == "COMPLETED"
    assert [run["stage"] for run in _runs(done)] == [-1, 0, 0, 1]  # listed in the order they run
    runs = {run["arn"]: run for run in _runs(done)}
    pre = next(r for r in runs.values() if r["phase"] == "pre")
    post = next(r for r in runs.values() if r["phase"] == "post")
    assert (pre["kind"], pre["type"], pre["stage"], pre["status"]) == ("action", "lambda", -1, "SUCCEEDED")
    assert (post["kind"], post["type"], post["stage"], post["status"]) == ("action", "ssm-automation", 1, "SUCCEEDED")
    assert {runs[arn]["kind"] for arn in resources} == {"resource"}
    answer = json.loads(pre["output"])
    assert answer["event"]["check"] == "dns"
    assert answer["event"]["drwave"] == {
        "executionId": execution_id,
        "mode": "drill",
        "phase": "instantiate",
        "wave": 1,
        "when": "pre",
    }
    outputs = json.loads(post["output"])
    told = outputs["test.Message"][0]
    assert told.endswith(" on app") and '"mode":"drill"' in told and '"when":"post"' in told
    order = _finished_order(api, execution_id)
    assert order[0] == pre["arn"] and order[-1] == post["arn"] and set(order[1:-1]) == set(resources)
    assert pre["finishedAt"] <= min(runs[arn]["startedAt"] for arn in resources)
    assert max(runs[arn]["finishedAt"] for arn in resources) <= post["startedAt"]


def test_a_failing_pre_action_with_on_failure_pause_parks_the_execution_before_the_resources(
    api, localaws, function, aws
):
    check = function(error="DNS of the DR region does not answer")
    resources = [sim("db-1", ms=100)]
    plan = api.plan(
        [
            {
                "name": "DB",
                "arns": resources,
                "onFailure": "pause",
                "preActions": [{"type": "lambda", "functionArn": check}],
            }
        ]
    )

    execution_id = api.start(plan, mode="drill")
    paused = api.wait(execution_id, {"PAUSED", *TERMINAL})

    assert paused["status"] == "PAUSED" and paused["pausedBeforeWave"] == 1
    runs = {run["arn"]: run for run in _runs(paused)}
    (pre,) = [r for r in runs.values() if r["kind"] == "action"]
    assert pre["status"] == "FAILED"
    assert pre["error"] == "function error (Unhandled): DNS of the DR region does not answer"
    assert runs[resources[0]]["status"] == "PENDING" and paused["waves"][0]["status"] == "RUNNING"

    api.post(f"/v1/executions/{execution_id}/resume", {}, expect=200)
    done = api.wait(execution_id)

    assert done["status"] == "COMPLETED_WITH_FAILURES"
    assert {r["arn"]: r["status"] for r in _runs(done)} == {pre["arn"]: "FAILED", resources[0]: "SUCCEEDED"}


def test_a_failing_pre_action_with_on_failure_abort_fails_the_execution_and_never_starts_the_resources(
    api, localaws, function
):
    check = function(error="not ready")
    resources = [sim("web-1")]
    plan = api.plan(
        [
            {
                "name": "Web",
                "arns": resources,
                "onFailure": "abort",
                "preActions": [{"type": "lambda", "functionArn": check}],
            },
            {"name": "Later", "arns": [sim("later-1")]},
        ]
    )

    done = api.wait(api.start(plan, mode="drill"))

    assert done["status"] == "FAILED"
    first, later = done["waves"]
    assert first["status"] == "FAILED" and later["status"] == "SKIPPED"
    assert first["statusReason"] == "wave 1 'Web': pre-action 1 failed and onFailure is abort"
    statuses = {r["kind"]: r["status"] for r in first["resources"]}
    assert statuses == {"action": "FAILED", "resource": "CANCELLED"}
    assert all(r["startedAt"] is None for r in first["resources"] if r["kind"] == "resource")


@pytest.mark.parametrize("outcome", ["Failed", "TimedOut", "Cancelled"])
def test_an_ssm_automation_that_ends_unsuccessfully_fails_its_action_with_ssm_s_status_and_message(
    api, localaws, document, outcome
):
    smoke = document(outcome=outcome)
    plan = api.plan(
        [{"name": "App", "arns": [sim("app-1")], "postActions": [{"type": "ssm-automation", "documentName": smoke}]}]
    )

    done = api.wait(api.start(plan, mode="recovery"))

    assert done["status"] == "COMPLETED_WITH_FAILURES"
    (post,) = [r for r in _runs(done) if r["kind"] == "action"]
    assert post["status"] == "FAILED" and post["phase"] == "post"
    assert post["error"].startswith(f"automation {post['operationId']} {outcome}: tested ")
    assert '"mode":"recovery"' in post["error"]


def test_an_ssm_automation_that_outlasts_its_timeout_times_out_and_is_stopped_in_ssm(api, localaws, document, aws):
    slow = document(seconds=600)
    post = {"type": "ssm-automation", "documentName": slow, "timeoutSeconds": 2}
    plan = api.plan([{"name": "App", "arns": [sim("app-1")], "postActions": [post]}])

    done = api.wait(api.start(plan, mode="recovery"))

    (action,) = [r for r in _runs(done) if r["kind"] == "action"]
    assert (done["status"], action["status"]) == ("COMPLETED_WITH_FAILURES", "TIMED_OUT")
    assert action["error"] == f"action timeout of 2s reached; automation {action['operationId']} stopped"
    automation = aws("ssm").get_automation_execution(AutomationExecutionId=action["operationId"])
    assert automation["AutomationExecution"]["AutomationExecutionStatus"] == "Cancelled"


def test_validation_names_the_action_whose_function_or_document_does_not_exist(api, localaws, function):
    missing_function = f"arn:aws:lambda:{DR}:{ACCOUNT}:function:gone-{uuid.uuid4().hex[:6]}"
    plan = api.plan(
        [
            {"name": "One", "arns": [sim("a")], "preActions": [{"type": "lambda", "functionArn": function()}]},
            {
                "name": "Two",
                "arns": [sim("b")],
                "preActions": [{"type": "lambda", "functionArn": missing_function}],
                "postActions": [{"type": "ssm-automation", "documentName": "no-such-runbook"}],
            },
        ]
    )

    validation = api.post(f"/v1/recovery-plans/{plan}/validate", {}, expect=200)

    failed = {c["field"]: c for c in validation["checks"] if c["status"] == "error"}
    assert set(failed) == {"waves[1].preActions[0].functionArn", "waves[1].postActions[0].documentName"}
    assert missing_function in failed["waves[1].preActions[0].functionArn"]["message"]
    assert "no-such-runbook" in failed["waves[1].postActions[0].documentName"]["message"]
    assert {c["field"] for c in validation["checks"] if c["status"] == "ok" and c.get("field")} == {
        "waves[0].preActions[0].functionArn"
    }
    refused = api.post("/v1/executions", {"planId": plan}, expect=409)
    assert refused["error"]["code"] == "PREFLIGHT_FAILED"
    assert "waves[1].preActions[0].functionArn" in json.dumps(refused["error"]["details"])


def test_validation_warns_about_a_document_that_declares_no_drwave_parameter(api, localaws, document, aws):
    told = document()
    untold = f"untold-{uuid.uuid4().hex[:8]}"
    content = {"schemaVersion": "0.3", "mainSteps": [{"name": "ok", "action": "aws:executeScript", "inputs": {}}]}
    aws("ssm").create_document(
        Name=untold, Content=json.dumps(content), DocumentType="Automation", DocumentFormat="JSON"
    )
    plan = api.plan(
        [
            {
                "name": "App",
                "arns": [sim("a")],
                "preActions": [{"type": "ssm-automation", "documentName": told}],
                "postActions": [{"type": "ssm-automation", "documentName": untold}],
            }
        ]
    )

    validation = api.post(f"/v1/recovery-plans/{plan}/validate", {}, expect=200)

    documents = {c["field"]: c for c in validation["checks"] if c["name"] == "action.ssm-automation"}
    assert documents["waves[0].preActions[0].documentName"]["status"] == "ok"
    warned = documents["waves[0].postActions[0].documentName"]
    assert warned["status"] == "warning"
    assert untold in warned["message"] and "declares no 'drwave' parameter" in warned["message"]
    assert validation["ready"] is True  # a warning, not an error: the start is not refused


def test_a_plan_with_a_bad_action_is_refused_naming_the_field(api, localaws):
    group = api.post(
        "/v1/protection-groups",
        {"name": f"g {uuid.uuid4().hex[:8]}", "region": DR, "selection": {"resourceArns": [sim("x")]}},
        expect=201,
    )["id"]
    bad = {"type": "lambda", "functionArn": "not-an-arn"}
    wave = {"name": "W", "protectionGroupIds": [group]}

    refused = api.post(
        "/v1/recovery-plans",
        {"name": f"p {uuid.uuid4().hex[:8]}", "waves": [wave, {**wave, "name": "W2", "preActions": [bad]}]},
        expect=400,
    )

    assert refused["error"]["message"].startswith("waves[1].preActions[0].functionArn:")


def test_the_estate_demo_runs_its_check_before_wave_1_and_its_smoke_test_after_wave_2(api, localaws):
    from deploy.localaws.seed import load_estate
    from services.demo import run_estate_demo

    seeded = load_estate(localaws.endpoint, reset=True)
    token = api.http.headers["Authorization"].split(" ", 1)[1]
    lines: list[str] = []

    drill, cleanup = run_estate_demo(api.base, token, out=lines.append)

    assert seeded["runbooks"] == {
        "functions": [f"arn:aws:lambda:{DR}:{ACCOUNT}:function:drwave-demo-dr-check"],
        "documents": ["drwave-demo-smoke-test"],
    }
    assert drill["status"] == "COMPLETED" and cleanup["status"] == "COMPLETED"
    actions = {(run["phase"], run["type"]): run for run in _runs(drill) if run["kind"] == "action"}
    assert set(actions) == {("pre", "lambda"), ("post", "ssm-automation")}
    assert {run["status"] for run in actions.values()} == {"SUCCEEDED"}
    assert json.loads(actions[("pre", "lambda")]["output"])["event"]["drwave"]["wave"] == 1
    assert "smoke-tested app.abcd.example.com" in actions[("post", "ssm-automation")]["output"]
    told = [run["output"] for run in _runs(cleanup) if run["kind"] == "action" and run["type"] == "lambda"]
    assert json.loads(told[0])["event"]["drwave"]["phase"] == "cleanup"
    assert any("pre-wave lambda drwave-demo-dr-check" in line for line in lines)


def _paused_on_a_failed_check(api, function, on_failure: str = "pause"):
    """A plan whose wave's pre-action fails (its function raises), started and parked (or failed)."""
    check = function(error="the DR region's DNS does not answer")
    resources = [sim("db-1", ms=100)]
    plan = api.plan(
        [
            {
                "name": "DB",
                "arns": resources,
                "onFailure": on_failure,
                "preActions": [{"type": "lambda", "functionArn": check}],
            }
        ]
    )
    execution_id = api.start(plan, mode="drill")
    parked = api.wait(execution_id, {"PAUSED", *TERMINAL})
    (pre,) = [r for r in _runs(parked) if r["kind"] == "action"]
    return execution_id, check, pre, resources


def test_a_retry_after_fixing_the_failed_pre_action_runs_it_again_then_the_resources(api, localaws, function, aws):
    execution_id, check, pre, resources = _paused_on_a_failed_check(api, function)
    assert pre["status"] == "FAILED"
    aws("lambda").update_function_configuration(FunctionName=check, Environment={"Variables": {}})  # fixed

    api.post(f"/v1/executions/{execution_id}/retry", {"comment": "DNS fixed"}, expect=200)
    done = api.wait(execution_id)

    assert done["status"] == "COMPLETED"
    runs = {r["arn"]: r for r in _runs(done)}
    assert runs[pre["arn"]]["status"] == "SUCCEEDED" and runs[pre["arn"]]["attempt"] == 2
    assert [a["status"] for a in runs[pre["arn"]]["attempts"]] == ["FAILED", "SUCCEEDED"]
    assert runs[resources[0]]["status"] == "SUCCEEDED" and runs[resources[0]]["attempt"] == 1
    assert runs[pre["arn"]]["finishedAt"] <= runs[resources[0]]["startedAt"]


def test_a_skipped_pre_action_lets_the_resume_go_on_to_the_resources(api, localaws, function):
    execution_id, _, pre, resources = _paused_on_a_failed_check(api, function)

    api.post(f"/v1/executions/{execution_id}/skip", {"arn": pre["arn"], "reason": "checked by hand"}, expect=200)
    api.post(f"/v1/executions/{execution_id}/resume", {}, expect=200)
    done = api.wait(execution_id)

    assert done["status"] == "COMPLETED"
    runs = {r["arn"]: r for r in _runs(done)}
    assert runs[pre["arn"]]["status"] == "SKIPPED" and runs[pre["arn"]]["skipReason"] == "checked by hand"
    assert runs[resources[0]]["status"] == "SUCCEEDED"


def test_a_retry_of_an_aborted_wave_runs_the_stages_its_abort_cancelled(api, localaws, function, aws):
    execution_id, check, pre, resources = _paused_on_a_failed_check(api, function, on_failure="abort")
    failed = api.get(f"/v1/executions/{execution_id}")
    assert failed["status"] == "FAILED"
    assert {r["arn"]: r["status"] for r in _runs(failed)} == {pre["arn"]: "FAILED", resources[0]: "CANCELLED"}
    aws("lambda").update_function_configuration(FunctionName=check, Environment={"Variables": {}})

    api.post(f"/v1/executions/{execution_id}/retry", {}, expect=200)
    done = api.wait(execution_id)

    assert done["status"] == "COMPLETED"
    assert {r["arn"]: r["status"] for r in _runs(done)} == {pre["arn"]: "SUCCEEDED", resources[0]: "SUCCEEDED"}


def test_actions_of_a_registered_target_account_run_there_with_its_role(api, localaws, aws, aws_endpoint):
    from test_cross_account import as_other_account, role_in

    # an account no earlier test used: the local AWS forgets assumed-role keys at its reset between tests,
    # while the stack's processes keep the credentials they assumed (which would then name no account)
    far_account = "310987654321"
    api.post(
        "/v1/target-accounts",
        {"accountId": far_account, "name": "far", "roleArn": role_in(far_account), "regions": [DR]},
        expect=201,
    )
    iam, lam, ssm = (as_other_account(aws_endpoint, service, far_account) for service in ("iam", "lambda", "ssm"))
    role = iam.create_role(RoleName=f"fn-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    far = lam.create_function(
        FunctionName=f"far-check-{uuid.uuid4().hex[:6]}",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": lambda_zip("event")},
    )["FunctionArn"]
    doc = f"far-smoke-{uuid.uuid4().hex[:6]}"
    content = {"schemaVersion": "0.3", "mainSteps": [{"name": "ok", "action": "aws:executeScript", "inputs": {}}]}
    ssm.create_document(Name=doc, Content=json.dumps(content), DocumentType="Automation", DocumentFormat="JSON")
    automation = {"type": "ssm-automation", "documentName": doc, "accountId": far_account}
    plan = api.plan(
        [
            {
                "name": "Far",
                "arns": [sim("near-1")],
                "preActions": [{"type": "lambda", "functionArn": far}],
                "postActions": [automation],
            }
        ]
    )

    assert not [c for c in api.post(f"/v1/recovery-plans/{plan}/validate", {})["checks"] if c["status"] == "error"]
    done = api.wait(api.start(plan, mode="drill"))

    assert done["status"] == "COMPLETED"
    (post,) = [r for r in _runs(done) if r["phase"] == "post"]
    assert ssm.get_automation_execution(AutomationExecutionId=post["operationId"])["AutomationExecution"]
    with pytest.raises(aws("ssm").exceptions.ClientError):  # nothing in drwave's own account
        aws("ssm").get_automation_execution(AutomationExecutionId=post["operationId"])


def test_a_long_answer_is_kept_to_4_kb_and_marked_truncated(api, localaws, aws, function):
    check = function()
    aws("lambda").update_function_configuration(
        FunctionName=check, Environment={"Variables": {"LOCALAWS_OUTPUT_BYTES": "10000"}}
    )
    plan = api.plan([{"name": "W", "arns": [sim("w-1")], "postActions": [{"type": "lambda", "functionArn": check}]}])

    done = api.wait(api.start(plan, mode="drill"))

    (post,) = [r for r in _runs(done) if r["kind"] == "action"]
    assert post["status"] == "SUCCEEDED"
    assert len(post["output"].encode()) == 4096 and post["detail"]["outputTruncated"] is True
    assert post["output"].startswith('{"ok": true')
