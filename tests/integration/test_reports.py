"""The evidence report of a drill with a failure and an approved gate: JSON, HTML, SVG and S3."""

from __future__ import annotations

import json
import time

import boto3
from support import TERMINAL, create_plan, sim, start, wait_for


def test_the_report_of_a_drill_with_a_failure_and_a_gate_tells_who_approved_what_failed_and_the_rto(
    client, admin, token_for, report_bucket
):
    failing = sim("app-broken", 200, fail=True)
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db", 200)]},
            {"name": "app", "arns": [sim("app", 100), failing], "pauseBeforeWave": True},
        ],
    )
    execution_id = start(client, admin, plan, reason="quarterly DR drill")
    wait_for(client, admin, execution_id, {"PAUSED"} | TERMINAL)
    time.sleep(1)  # a gate wait the report must count
    approver = token_for("operator")
    response = client.post(f"/v1/executions/{execution_id}/approve", json={"comment": "db checked"}, headers=approver)
    assert response.status_code == 200, response.get_json()
    wait_for(client, admin, execution_id, TERMINAL)

    response = client.get(f"/v1/executions/{execution_id}/report", headers=token_for("read-only"))
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert (report["execution"], report["plan"]["id"], report["mode"], report["phase"]) == (
        execution_id,
        plan,
        "drill",
        "instantiate",
    )
    assert report["status"] == "COMPLETED_WITH_FAILURES"
    assert report["reason"] == "quarterly DR drill"
    assert report["startedBy"].endswith("(admin)")
    assert report["gateWaitSeconds"] >= 1
    assert report["durationSeconds"] > report["gateWaitSeconds"]
    rto = report["rto"]
    assert rto["actualSeconds"] == report["durationSeconds"]
    assert abs(rto["actualExcludingGatesSeconds"] - (report["durationSeconds"] - report["gateWaitSeconds"])) < 0.01
    db, app = report["waves"]
    assert (db["status"], db["resourceCount"], db["failures"], db["approvals"]) == ("SUCCEEDED", 1, [], [])
    assert app["status"] == "COMPLETED_WITH_FAILURES"
    assert app["counts"] == {"SUCCEEDED": 1, "FAILED": 1}
    [failure] = app["failures"]
    assert failure["arn"] == failing and failure["error"].startswith("simulated failure")
    [grant] = app["approvals"]
    assert (grant["role"], grant["comment"]) == ("operator", "db checked")

    html = client.get(f"/v1/executions/{execution_id}/report?format=html", headers=admin)
    assert html.status_code == 200 and html.mimetype == "text/html"
    page = html.get_data(as_text=True)
    assert "<svg" in page and "db checked" in page and failing in page
    assert "<script" not in page and "<link" not in page and 'src="' not in page  # self-contained
    svg = client.get(f"/v1/executions/{execution_id}/report?format=svg", headers=admin)
    assert svg.mimetype == "image/svg+xml"
    timeline = svg.get_data(as_text=True)
    assert timeline.count("<rect") >= 2 + 3  # a bar per wave and per resource
    assert "✕" in timeline and "gate" in timeline

    s3 = boto3.client("s3", region_name="us-east-1")
    bucket = report_bucket
    prefix = f"reports/{execution_id}/"
    deadline = time.monotonic() + 60
    while True:
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])}
        if keys == {prefix + "report.json", prefix + "report.html"} or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert keys == {prefix + "report.json", prefix + "report.html"}
    stored = json.loads(s3.get_object(Bucket=bucket, Key=prefix + "report.json")["Body"].read())
    assert stored["status"] == "COMPLETED_WITH_FAILURES"
    assert stored["waves"][1]["approvals"][0]["comment"] == "db checked"


def test_the_report_of_an_unknown_execution_is_404(client, admin):
    response = client.get("/v1/executions/ex-0/report", headers=admin)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "EXECUTION_NOT_FOUND"


def test_the_report_of_a_retried_execution_shows_both_attempts_of_the_retried_resource(client, admin):
    flaky = sim("app-flaky", 100, fail_first=1)
    plan = create_plan(client, admin, [{"name": "app", "arns": [sim("app"), flaky]}])
    execution_id = start(client, admin, plan)
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED_WITH_FAILURES"
    retried = client.post(f"/v1/executions/{execution_id}/retry", json={"comment": "flaky"}, headers=admin)
    assert retried.status_code == 200, retried.get_json()
    assert wait_for(client, admin, execution_id, TERMINAL)["status"] == "COMPLETED"

    report = client.get(f"/v1/executions/{execution_id}/report", headers=admin).get_json()

    (wave,) = report["waves"]
    assert (wave["status"], wave["failures"]) == ("SUCCEEDED", [])
    shown = next(r for r in wave["resources"] if r["arn"] == flaky)
    assert shown["attempt"] == 2
    assert [(a["attempt"], a["status"]) for a in shown["attempts"]] == [(1, "FAILED"), (2, "SUCCEEDED")]
    first, second = shown["attempts"]
    assert first["error"].startswith("simulated failure") and first["operationId"] != second["operationId"]
    assert [(r["by"].endswith("(admin)"), "flaky" in r["message"]) for r in report["retries"]] == [(True, True)]
    page = client.get(f"/v1/executions/{execution_id}/report?format=html", headers=admin).get_data(as_text=True)
    attempts = page.split("<h2>Attempts of retried resources and actions</h2>")[1].split("<h2>")[0]
    assert flaky in attempts and first["error"] in attempts
    assert first["operationId"] in attempts and second["operationId"] in attempts
