"""Continuous readiness: the scheduler evaluates every plan every DRWAVE_READINESS_INTERVAL (2 s here) and
notifies a change of status as plan.readiness_changed."""

from __future__ import annotations

import time
from collections.abc import Callable

from ready_support import sim_arn
from sqlalchemy import text
from support import wait_until
from webhook_receiver import Receiver

from services.scheduler.readiness import READINESS_LOCK

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


def test_a_plan_no_pass_has_evaluated_yet_is_not_evaluated(api, ready_db):
    with ready_db.engine.connect() as scheduler_pass:  # holding the pass's lock keeps every evaluator out
        scheduler_pass.execute(text("SELECT pg_advisory_lock(:id)"), {"id": READINESS_LOCK})
        try:
            plan = api.plan([sim_arn("cache")])
            readiness = api.get(f"/v1/recovery-plans/{plan}/readiness")
            listed = {item["planId"]: item["status"] for item in api.get("/v1/readiness")["items"]}
        finally:
            scheduler_pass.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": READINESS_LOCK})
            scheduler_pass.commit()

    assert readiness["status"] == "notEvaluated" and readiness.get("evaluatedAt") is None
    assert readiness.get("checks", []) == [] and listed[plan] == "notEvaluated"


def test_a_webhook_subscribed_to_readiness_changes_gets_a_signed_event_when_a_stalled_server_needs_action(
    api, localaws
):
    (server,) = localaws.source_servers({"hostname": "db-01"})
    plan = api.plan([server["arn"]])
    receiver = Receiver()
    body = {"name": "readiness", "kind": "webhook", "target": receiver.url, "events": ["plan.readiness_changed"]}
    subscription = api.post("/v1/subscriptions", {**body, "planIds": [plan]}, expect=201)
    receiver.secret = subscription["secret"]
    try:
        wait_for_status(api, plan, "ready")
        localaws.replication(server["sourceServerID"], state="STALLED")
        wait_for_status(api, plan, "actionRequired")
        event = wait_until(
            lambda: next((e for e in receiver.accepted if e["data"]["status"] == "actionRequired"), None),
            "plan.readiness_changed to actionRequired",
            WAIT,
        )
    finally:
        api.call("DELETE", f"/v1/subscriptions/{subscription['id']}")
        receiver.close()

    assert {(r["type"], r["verified"]) for r in receiver.requests} == {("plan.readiness_changed", True)}
    data = event["data"]
    assert (data["planId"], data["statusBefore"], data["status"]) == (plan, "ready", "actionRequired")
    assert data["planName"].startswith("plan ") and "executionId" not in data
    (check,) = data["checks"]
    assert (check["name"], check["status"], check["resourceArn"]) == ("drs.replication", "error", server["arn"])
    assert "STALLED" in data["message"] and data["planName"] in data["message"]


def test_the_readiness_of_an_unknown_plan_is_404(api):
    missing = api.call("GET", "/v1/recovery-plans/plan-999999/readiness")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "PLAN_NOT_FOUND"
