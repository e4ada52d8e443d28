"""Continuous readiness: the scheduler evaluates every plan every DRWAVE_READINESS_INTERVAL (2 s here)."""

from __future__ import annotations

import time
from collections.abc import Callable

WAIT = 120  # seconds: generous, many readiness intervals


def wait_for_status(api, plan: str, status: str, condition: Callable[[dict], bool] = lambda r: True) -> dict:
    deadline = time.monotonic() + WAIT
    while True:
        readiness = api.get(f"/v1/recovery-plans/{plan}/readiness")
        if readiness["status"] == status and condition(readiness):
            return readiness
        assert time.monotonic() < deadline, f"plan {plan} is {readiness['status']}, not {status}: {readiness}"
        time.sleep(0.3)


def test_a_stalled_server_turns_its_plan_action_required_and_back_to_ready_when_it_recovers(api, localaws):
    servers = localaws.source_servers({"hostname": "db-01"}, {"hostname": "db-02"})
    plan = api.plan([s["arn"] for s in servers])

    ready = wait_for_status(api, plan, "ready")
    assert ready["evaluatedAt"] and {c["status"] for c in ready["checks"]} == {"ok"}
    assert ready["rtoForecast"]["waves"][0]["wave"] == 1

    localaws.replication(servers[1]["sourceServerID"], state="STALLED")
    stalled = wait_for_status(api, plan, "actionRequired")
    (error,) = [c for c in stalled["checks"] if c["status"] == "error"]
    assert error["name"] == "drs.replication" and error["resourceArn"] == servers[1]["arn"]

    localaws.replication(servers[1]["sourceServerID"], state="CONTINUOUS")
    recovered = wait_for_status(api, plan, "ready", lambda r: len(r["changes"]) >= 3)

    assert [(c["from"], c["to"]) for c in recovered["changes"]] == [
        ("notEvaluated", "ready"),
        ("ready", "actionRequired"),
        ("actionRequired", "ready"),
    ]
    assert "STALLED" in recovered["changes"][1]["message"]
    listed = {item["planId"]: item["status"] for item in api.get("/v1/readiness")["items"]}
    assert listed[plan] == "ready"


def test_a_plan_not_evaluated_yet_says_so_and_an_unknown_plan_is_404(api):
    missing = api.call("GET", "/v1/recovery-plans/plan-999999/readiness")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "PLAN_NOT_FOUND"
