"""Preflight checks in validate and at start, on the local AWS: quotas, replication, drill leftovers."""

from __future__ import annotations

import boto3
from support import DR, STATIC


def checks_named(validation: dict, name: str) -> list[dict]:
    return [c for c in validation["checks"] if c["name"] == name]


def test_validate_reports_ok_checks_and_a_forecast_for_a_healthy_drs_plan(api, localaws):
    servers = localaws.source_servers({"hostname": "db-01"}, {"hostname": "app-01"})
    plan = api.plan([s["arn"] for s in servers])

    validation = api.post(f"/v1/recovery-plans/{plan}/validate")

    assert validation["ready"] is True
    assert {c["name"] for c in validation["checks"]} >= {
        "drs.quota.serversPerJob",
        "drs.quota.concurrentJobs",
        "drs.quota.serversInActiveJobs",
        "drs.replication",
        "drs.leftoverInstances",
        "rto.forecast",
    }
    assert {c["status"] for c in validation["checks"]} == {"ok"}
    assert {c["resourceArn"] for c in checks_named(validation, "drs.replication")} == {s["arn"] for s in servers}
    forecast = validation["rtoForecast"]
    assert [w["wave"] for w in forecast["waves"]] == [1]
    assert forecast["p50Minutes"] <= forecast["p90Minutes"]


def test_a_stalled_server_is_an_error_and_a_start_is_refused_unless_a_recovery_manager_forces_it(api, api_as, localaws):
    healthy, stalled = localaws.source_servers({"hostname": "db-01"}, {"hostname": "db-02"})
    localaws.replication(stalled["sourceServerID"], state="STALLED")
    plan = api.plan([healthy["arn"], stalled["arn"]])

    validation = api.post(f"/v1/recovery-plans/{plan}/validate")
    (error,) = [c for c in validation["checks"] if c["status"] == "error"]
    assert error["name"] == "drs.replication" and error["resourceArn"] == stalled["arn"]
    assert "STALLED" in error["message"] and validation["ready"] is False

    refused = api.call("POST", "/v1/executions", {"planId": plan})
    assert refused.status_code == 409, refused.text
    body = refused.json()["error"]
    assert body["code"] == "PREFLIGHT_FAILED" and stalled["arn"] in body["message"]
    assert [c["resourceArn"] for c in body["details"]["checks"]] == [stalled["arn"]]

    operator = api_as("operator").call("POST", "/v1/executions", {"planId": plan, "force": True})
    assert operator.status_code == 403, operator.text
    assert operator.json()["error"]["details"]["permission"] == "executions:force"

    forced = api_as("recovery-manager").start(plan, force=True)
    assert api.wait(forced)["status"] in {"COMPLETED_WITH_FAILURES", "FAILED"}  # DRS skips the stalled server
    (event,) = [
        e for e in api.get(f"/v1/executions/{forced}/events")["items"] if e["kind"] == "execution.preflight_forced"
    ]
    assert "recovery-manager" in event["actor"] and event["detail"]["checks"][0]["resourceArn"] == stalled["arn"]


def test_replication_lag_over_the_limit_is_a_warning_that_does_not_block_a_start(api, localaws):
    (server,) = localaws.source_servers({"hostname": "db-01"})
    localaws.replication(server["sourceServerID"], lag=20 * 60)
    plan = api.plan([server["arn"]])

    (check,) = checks_named(api.post(f"/v1/recovery-plans/{plan}/validate"), "drs.replication")

    assert check["status"] == "warning" and "20.0 min" in check["message"]
    assert api.wait(api.start(plan))["status"] == "COMPLETED"


def test_a_drills_instances_left_running_are_a_warning_naming_them_and_the_execution(api, localaws):
    servers = localaws.source_servers({"hostname": "web-01"}, {"hostname": "web-02"})
    plan = api.plan([s["arn"] for s in servers])
    drill = api.wait(api.start(plan))
    assert drill["status"] == "COMPLETED"
    instances = {r["detail"]["recoveryInstanceID"] for w in drill["waves"] for r in w["resources"]}

    leftovers = checks_named(api.post(f"/v1/recovery-plans/{plan}/validate"), "drs.leftoverInstances")

    assert {c["status"] for c in leftovers} == {"warning"}
    assert all(drill["id"] in c["message"] for c in leftovers)
    assert {i for i in instances if any(i in c["message"] for c in leftovers)} == instances


def test_twenty_running_drs_jobs_in_the_account_make_the_concurrent_job_quota_an_error(api, localaws, ready_endpoint):
    localaws.post("config", {"drsJobStepSeconds": 600})
    busy = localaws.source_servers(*({"hostname": f"busy-{n}"} for n in range(20)))
    drs = boto3.client("drs", endpoint_url=ready_endpoint, region_name=DR, **STATIC)
    for server in busy:  # someone else's jobs, running for the next 20 minutes
        drs.start_recovery(sourceServers=[{"sourceServerID": server["sourceServerID"]}], isDrill=True)
    (mine,) = localaws.source_servers({"hostname": "db-01"})
    plan = api.plan([mine["arn"]])

    validation = api.post(f"/v1/recovery-plans/{plan}/validate")

    (jobs,) = checks_named(validation, "drs.quota.concurrentJobs")
    assert jobs["status"] == "error" and "20 DRS job(s) running" in jobs["message"]
    (servers,) = checks_named(validation, "drs.quota.serversInActiveJobs")
    assert servers["status"] == "ok"
    assert api.call("POST", "/v1/executions", {"planId": plan}).json()["error"]["code"] == "PREFLIGHT_FAILED"


def test_an_ecs_service_lambda_alias_and_route53_record_that_do_not_exist_are_errors(api, localaws):
    missing = [
        f"arn:aws:ecs:{DR}:123456789012:service/nowhere/web",
        f"arn:aws:lambda:{DR}:123456789012:function:no-such-function",
        "arn:aws:route53:::healthcheck/00000000-0000-0000-0000-000000000000",
    ]
    plan = api.plan(missing)

    checks = {
        c["resourceArn"]: c for c in api.post(f"/v1/recovery-plans/{plan}/validate")["checks"] if c.get("resourceArn")
    }

    assert {arn: checks[arn]["status"] for arn in missing} == dict.fromkeys(missing, "error")
    assert [checks[arn]["name"] for arn in missing] == ["ecs.service", "lambda.function", "route53.healthCheck"]
