"""A resource is in at most one active execution, a plan runs at most once at a time — settled in Postgres."""

from __future__ import annotations

from discovery_support import DR, at_once, error_of
from support import create_plan, sim, start, unique, wait_for

TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}


def paused_execution_of(client, headers, arns: list[str]) -> tuple[str, str]:
    """(plan id, execution id) of a plan over ``arns`` parked PAUSED before its first wave."""
    plan_id = create_plan(client, headers, [{"name": "w", "arns": arns, "pauseBeforeWave": True}])
    execution_id = start(client, headers, plan_id)
    wait_for(client, headers, execution_id, {"PAUSED"})
    return plan_id, execution_id


def finish(client, headers, execution_id: str) -> None:
    """Cancel a gated execution once it is parked, and wait until it ended."""
    wait_for(client, headers, execution_id, {"PAUSED"} | TERMINAL)
    client.post(f"/v1/executions/{execution_id}/cancel", headers=headers)
    wait_for(client, headers, execution_id, TERMINAL)


def test_a_resource_in_another_active_execution_refuses_the_start_naming_it_and_the_execution(client, admin):
    shared = sim("shared")
    _, holder = paused_execution_of(client, admin, [shared])
    other = create_plan(client, admin, [{"name": "w", "arns": [sim("own"), shared]}])

    response = client.post("/v1/executions", json={"planId": other}, headers=admin)

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]["arn"], error["details"]["executionId"]) == (
        "RESOURCE_IN_ACTIVE_EXECUTION",
        shared,
        holder,
    )
    assert shared in error["message"] and holder in error["message"]
    assert client.get(f"/v1/executions?planId={other}", headers=admin).get_json()["items"] == []
    finish(client, admin, holder)


def test_a_resource_is_free_again_once_the_execution_holding_it_was_cancelled(client, admin):
    shared = sim("shared")
    _, holder = paused_execution_of(client, admin, [shared])
    other = create_plan(client, admin, [{"name": "w", "arns": [shared]}])
    assert client.post("/v1/executions", json={"planId": other}, headers=admin).status_code == 409

    finish(client, admin, holder)

    assert client.post("/v1/executions", json={"planId": other}, headers=admin).status_code == 202


def test_a_resource_is_free_again_once_the_execution_holding_it_completed(client, admin):
    shared = sim("shared")
    first = create_plan(client, admin, [{"name": "w", "arns": [shared]}])
    assert wait_for(client, admin, start(client, admin, first), TERMINAL)["status"] == "COMPLETED"
    second = create_plan(client, admin, [{"name": "w", "arns": [shared]}])

    assert client.post("/v1/executions", json={"planId": second}, headers=admin).status_code == 202


def test_validation_warns_about_a_resource_in_another_plans_active_execution(client, admin):
    shared = sim("shared")
    holder_plan, holder = paused_execution_of(client, admin, [shared])
    other = create_plan(client, admin, [{"name": "w", "arns": [shared]}])

    report = client.post(f"/v1/recovery-plans/{other}/validate", headers=admin).get_json()
    own = client.post(f"/v1/recovery-plans/{holder_plan}/validate", headers=admin).get_json()

    conflict = [w for w in report["warnings"] if w["code"] == "RESOURCE_IN_ACTIVE_EXECUTION"]
    assert [(w["arn"], w["details"]["executionId"]) for w in conflict] == [(shared, holder)]
    assert report["ready"] is False
    assert [w["code"] for w in own["warnings"]] == ["PLAN_ALREADY_EXECUTING"]  # its own run is no conflict
    finish(client, admin, holder)


def test_a_wave_without_resources_is_a_warning(client, admin):
    plan_id = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}, {"name": "nothing", "arns": []}])
    report = client.post(f"/v1/recovery-plans/{plan_id}/validate", headers=admin).get_json()
    assert [(w["code"], w["wave"]) for w in report["warnings"]] == [("EMPTY_WAVE", 2)]


def test_five_simultaneous_starts_of_one_plan_give_exactly_one_202(app, admin):
    plan_id = create_plan(app.test_client(), admin, [{"name": "w", "arns": [sim("db")], "pauseBeforeWave": True}])

    def start_once():
        return app.test_client().post("/v1/executions", json={"planId": plan_id}, headers=admin)

    responses = at_once([start_once] * 5)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202, 409, 409, 409, 409]
    winner = next(r for r in responses if r.status_code == 202).get_json()["execution"]["id"]
    losers = [error_of(r) for r in responses if r.status_code == 409]
    assert {(e["code"], e["details"]["executionId"]) for e in losers} == {("PLAN_ALREADY_EXECUTING", winner)}
    finish(app.test_client(), admin, winner)


def test_simultaneous_starts_of_plans_sharing_a_resource_give_exactly_one_202(app, admin):
    client = app.test_client()
    shared = sim("shared")
    plans = [
        create_plan(client, admin, [{"name": "w", "arns": [sim(f"p{n}"), shared], "pauseBeforeWave": True}])
        for n in range(4)
    ]

    def start_of(plan_id: str):
        return lambda: app.test_client().post("/v1/executions", json={"planId": plan_id}, headers=admin)

    responses = at_once([start_of(p) for p in plans])

    assert sorted(r.status_code for r in responses) == [202, 409, 409, 409]
    winner = next(r for r in responses if r.status_code == 202).get_json()["execution"]["id"]
    losers = [error_of(r) for r in responses if r.status_code == 409]
    assert {(e["code"], e["details"]["arn"], e["details"]["executionId"]) for e in losers} == {
        ("RESOURCE_IN_ACTIVE_EXECUTION", shared, winner)
    }
    finish(client, admin, winner)


def test_a_tag_resolved_resource_held_by_an_auto_waved_execution_refuses_an_explicit_plan(
    client, admin, estate, arn_of
):
    body = {
        "name": unique("staging"),
        "autoWaves": {"region": DR, "tags": {"Customer": "ABCD", "Environment": "Staging"}, "pauseBeforeWaves": [3]},
    }
    auto = client.post("/v1/recovery-plans", json=body, headers=admin).get_json()["id"]
    holder = start(client, admin, auto)
    wait_for(client, admin, holder, {"PAUSED"})
    explicit = create_plan(client, admin, [{"name": "db", "arns": [arn_of("abcd-stg-db-01")]}])

    response = client.post("/v1/executions", json={"planId": explicit}, headers=admin)

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]["arn"], error["details"]["executionId"]) == (
        "RESOURCE_IN_ACTIVE_EXECUTION",
        arn_of("abcd-stg-db-01"),
        holder,
    )
    finish(client, admin, holder)
