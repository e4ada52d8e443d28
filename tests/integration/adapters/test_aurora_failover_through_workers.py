"""Graceful, then ungraceful, through the workers: a recovery of an Aurora global database while its
primary Region is out (an outage rule on the local AWS), with the real aurora adapter."""

from __future__ import annotations

import json
import re
import uuid

import requests
from aurora_support import DR, PRIMARY, writer
from support import sim

PRIMARY_OUTAGE = {"service": "rds", "operation": "*", "region": PRIMARY, "outage": True}


def messages(api, execution_id: str) -> list[str]:
    return [e["message"] for e in api.get(f"/v1/executions/{execution_id}/events")["items"]]


def test_an_auto_recovery_with_allow_data_loss_fails_over_while_the_primary_region_is_out(
    api, localaws, aws, orders, runs_of
):
    localaws.post("faults", PRIMARY_OUTAGE)
    plan = api.plan([{"name": "Data", "arns": [orders["secondary"]]}])

    execution = api.wait(api.start(plan, mode="recovery", allowDataLoss=True))

    assert execution["status"] == "COMPLETED", runs_of(execution)
    assert (execution["failover"], execution["allowDataLoss"]) == ("auto", True)
    assert writer(aws) == orders["secondary"]
    run = runs_of(execution)[orders["secondary"]]
    assert run["detail"]["operation"] == "failover"
    decision = f"primary Region {PRIMARY} unreachable for {orders['secondary']}: failing over with data loss"
    assert f"{orders['secondary']}: {decision} (allowDataLoss)" in messages(api, execution["id"])


def test_a_graceful_recovery_fails_the_cluster_while_the_primary_region_is_out(api, localaws, aws, orders, runs_of):
    localaws.post("faults", PRIMARY_OUTAGE)
    plan = api.plan([{"name": "Data", "arns": [orders["secondary"]]}])

    execution = api.wait(api.start(plan, mode="recovery", failover="graceful"))

    assert execution["status"] == "COMPLETED_WITH_FAILURES", runs_of(execution)
    run = runs_of(execution)[orders["secondary"]]
    assert run["status"] == "FAILED" and run["errorCode"] is None
    assert run["error"].startswith(f"primary Region {PRIMARY} unreachable for {orders['secondary']}: a graceful")
    assert writer(aws) == orders["primary"]


def _paused_for_data_loss(api, plan: str, orders: dict, **start) -> tuple[str, dict]:
    execution_id = api.start(plan, mode="recovery", **start)
    paused = api.wait(execution_id, {"PAUSED", "COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"})
    reason = f"primary Region {PRIMARY} unreachable for {orders['secondary']}: approve data loss to fail over"
    assert (paused["status"], paused["statusReason"]) == ("PAUSED", reason), paused
    return execution_id, paused


def test_an_auto_recovery_pauses_for_data_loss_and_its_approval_fails_the_cluster_over(
    api, localaws, aws, orders, runs_of
):
    localaws.post("faults", PRIMARY_OUTAGE)
    plan = api.plan([{"name": "Data", "arns": [orders["secondary"]], "onFailure": "continue"}])
    execution_id, paused = _paused_for_data_loss(api, plan, orders)
    run = runs_of(paused)[orders["secondary"]]
    assert (run["status"], run["errorCode"]) == ("FAILED", "DATA_LOSS_APPROVAL_REQUIRED")
    (request,) = api.get(f"/v1/executions/{execution_id}/approvals")["items"]
    assert (request["status"], request["reason"]) == ("pending", paused["statusReason"])
    assert writer(aws) == orders["primary"]

    approved = api.post(f"/v1/executions/{execution_id}/approve", {"allowDataLoss": True}, expect=200)

    assert approved["message"].startswith(f"Data loss approved for {execution_id}")
    done = api.wait(execution_id)
    assert done["status"] == "COMPLETED", runs_of(done)
    assert writer(aws) == orders["secondary"]
    run = runs_of(done)[orders["secondary"]]
    assert (run["status"], run["detail"]["operation"], run["errorCode"]) == ("SUCCEEDED", "failover", None)
    assert run["dataLossApprovedBy"] == "adapters-admin"
    timeline = messages(api, execution_id)
    assert f"{orders['secondary']}: failover with data loss approved by adapters-admin" in timeline
    unreachable = f"primary Region {PRIMARY} unreachable for {orders['secondary']}: failing over with data loss"
    assert f"{orders['secondary']}: {unreachable} (approved by adapters-admin)" in timeline


def test_a_plain_resume_at_a_data_loss_pause_goes_on_and_the_cluster_stays_failed(api, localaws, aws, orders, runs_of):
    localaws.post("faults", PRIMARY_OUTAGE)
    plan = api.plan([{"name": "Data", "arns": [orders["secondary"]], "onFailure": "abort"}])
    execution_id, _ = _paused_for_data_loss(api, plan, orders)

    api.post(f"/v1/executions/{execution_id}/resume", {}, expect=200)

    done = api.wait(execution_id)
    assert done["status"] == "FAILED", runs_of(done)  # onFailure abort, after the pause
    assert runs_of(done)[orders["secondary"]]["status"] == "FAILED"
    assert writer(aws) == orders["primary"]
    assert "rds:FailoverGlobalCluster" not in localaws.calls()


def test_a_resume_with_allow_data_loss_at_a_data_loss_pause_fails_over_and_completes(
    api, localaws, aws, orders, runs_of
):
    localaws.post("faults", PRIMARY_OUTAGE)
    app = sim("app")
    plan = api.plan([{"name": "Data", "arns": [orders["secondary"]]}, {"name": "Apps", "arns": [app]}])
    execution_id, paused = _paused_for_data_loss(api, plan, orders)
    assert paused["pausedBeforeWave"] == 2
    assert runs_of(paused)[app]["status"] == "PENDING"  # the next wave waits for the decision

    api.post(f"/v1/executions/{execution_id}/resume", {"allowDataLoss": True}, expect=200)

    done = api.wait(execution_id)
    assert done["status"] == "COMPLETED", runs_of(done)
    assert writer(aws) == orders["secondary"]
    assert runs_of(done)[app]["status"] == "SUCCEEDED"


def test_allow_data_loss_where_no_cluster_waits_for_it_is_a_409_naming_the_field(api, localaws, orders):
    plan = api.plan([{"name": "Data", "arns": [orders["secondary"]], "pauseBeforeWave": True}])
    execution_id = api.start(plan, mode="recovery")
    api.wait(execution_id, {"PAUSED"})

    refused = api.post(f"/v1/executions/{execution_id}/approve", {"allowDataLoss": True}, expect=409)

    assert refused["error"]["code"] == "NO_DATA_LOSS_APPROVAL_PENDING"
    assert refused["error"]["details"]["field"] == "allowDataLoss"
    api.post(f"/v1/executions/{execution_id}/cancel", {}, expect=200)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_web_console_offers_data_loss_at_a_data_loss_pause_and_its_approval_fails_the_cluster_over(
    api, aws_stack, localaws, aws, orders, runs_of
):
    localaws.post("faults", PRIMARY_OUTAGE)
    plan = api.plan([{"name": "Data", "arns": [orders["secondary"]]}])
    execution_id, _ = _paused_for_data_loss(api, plan, orders)
    console, base = requests.Session(), f"{aws_stack.api_url}/console"
    token = api.http.headers["Authorization"].split(" ", 1)[1]
    login = console.post(
        f"{base}/login", data={"token": token, "csrf_token": _csrf(console.get(f"{base}/login").text)}, timeout=30
    )
    assert login.status_code == 200 and login.url.endswith("/console/executions"), login.text

    page = console.get(f"{base}/executions/{execution_id}", timeout=30).text
    assert re.search(r'<input id="allow-data-loss" name="allowDataLoss" type="checkbox" value="true">', page)
    assert f"Allow data loss: fail over <code>{orders['secondary']}</code>" in page
    approved = console.post(
        f"{base}/executions/{execution_id}/approve",
        data={"csrf_token": _csrf(page), "comment": "us-east-1 is gone", "allowDataLoss": "true"},
        timeout=60,
    )

    assert approved.status_code == 200 and f"Data loss approved for {execution_id}" in approved.text
    done = api.wait(execution_id)
    assert done["status"] == "COMPLETED", runs_of(done)
    assert writer(aws) == orders["secondary"]
    assert runs_of(done)[orders["secondary"]]["dataLossApprovedBy"] == "adapters-admin"
    assert "allowDataLoss" not in console.get(f"{base}/executions/{execution_id}", timeout=30).text


def test_a_wave_with_a_post_action_asks_about_data_loss_before_it_and_runs_it_after_the_failover(
    api, localaws, aws, orders, runs_of
):
    localaws.post("faults", PRIMARY_OUTAGE)
    smoke = f"smoke-{uuid.uuid4().hex[:8]}"
    steps = [{"name": "check", "action": "aws:executeScript", "inputs": {"Message": "writer answers"}}]
    aws("ssm", DR).create_document(
        Name=smoke,
        Content=json.dumps({"schemaVersion": "0.3", "mainSteps": steps}),
        DocumentType="Automation",
        DocumentFormat="JSON",
    )
    post = {"type": "ssm-automation", "documentName": smoke}
    plan = api.plan([{"name": "Data", "arns": [orders["secondary"]], "postActions": [post]}])
    execution_id = api.start(plan, mode="recovery")
    paused = api.wait(execution_id, {"PAUSED", "COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"})
    reason = f"primary Region {PRIMARY} unreachable for {orders['secondary']}: approve data loss to fail over"
    assert (paused["status"], paused["statusReason"]) == ("PAUSED", f"{reason} (before post-action 1)"), paused
    (action,) = [r for w in paused["waves"] for r in w["resources"] if r["kind"] == "action"]
    assert action["status"] == "PENDING"  # the post-action waits for the decision

    api.post(f"/v1/executions/{execution_id}/approve", {"allowDataLoss": True}, expect=200)

    done = api.wait(execution_id)
    assert done["status"] == "COMPLETED", runs_of(done)
    assert writer(aws) == orders["secondary"]
    cluster = runs_of(done)[orders["secondary"]]
    (action,) = [r for w in done["waves"] for r in w["resources"] if r["kind"] == "action"]
    assert action["status"] == "SUCCEEDED" and action["startedAt"] >= cluster["finishedAt"]
