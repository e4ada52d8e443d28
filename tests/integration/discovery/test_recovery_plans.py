"""Recovery plan rules: waves or autoWaves, optimistic locking on PUT and DELETE, no delete while executing."""

from __future__ import annotations

from discovery_support import error_of
from support import create_plan, sim, start, unique, wait_for

TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}
AUTO = {"accountId": "123456789012", "region": "us-west-2", "tags": {"Customer": "ABCD", "Environment": "Production"}}


def plan_of(client, headers, plan_id: str) -> dict:
    return client.get(f"/v1/recovery-plans/{plan_id}", headers=headers).get_json()


def put(client, headers, plan: dict, **changes):
    body = {"name": plan["name"], "version": plan["version"]}
    if plan["autoWaves"] is not None:
        body["autoWaves"] = plan["autoWaves"]
    else:
        body["waves"] = [{k: v for k, v in w.items() if k != "number"} for w in plan["waves"]]
    return client.put(f"/v1/recovery-plans/{plan['id']}", json=body | changes, headers=headers)


def test_an_auto_waved_plan_is_stored_with_its_selection_and_no_explicit_waves(client, admin):
    body = {"name": unique("auto"), "autoWaves": {**AUTO, "pauseBeforeWaves": [2]}}
    response = client.post("/v1/recovery-plans", json=body, headers=admin)
    assert response.status_code == 201, response.get_json()
    plan = response.get_json()
    assert plan["waves"] == []
    assert plan["autoWaves"] == {
        **AUTO,
        "pauseBeforeWaves": [2],
        "onFailure": "continue",
        "timeoutSeconds": 3600,
        "waveActions": [],
    }


def test_a_plan_with_both_waves_and_auto_waves_is_a_400_naming_auto_waves(client, admin):
    body = {"name": unique("both"), "waves": [{"name": "w"}], "autoWaves": AUTO}
    response = client.post("/v1/recovery-plans", json=body, headers=admin)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("autoWaves:")


def test_a_plan_with_neither_waves_nor_auto_waves_is_a_400(client, admin):
    response = client.post("/v1/recovery-plans", json={"name": unique("none")}, headers=admin)
    assert response.status_code == 400
    assert "needs waves or autoWaves" in error_of(response)["message"]


def test_a_plan_can_be_turned_into_an_auto_waved_plan_with_its_current_version(client, admin):
    plan = plan_of(client, admin, create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}]))
    response = put(client, admin, plan, waves=None, autoWaves=AUTO)
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert (updated["version"], updated["waves"], updated["autoWaves"]["tags"]) == (2, [], AUTO["tags"])


def test_updating_a_plan_with_a_stale_version_is_a_409_version_conflict(client, admin):
    plan = plan_of(client, admin, create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}]))
    assert put(client, admin, plan, description="first").status_code == 200
    response = put(client, admin, plan, description="second")
    assert response.status_code == 409
    assert error_of(response)["code"] == "VERSION_CONFLICT"
    assert plan_of(client, admin, plan["id"])["description"] == "first"


def test_renaming_a_plan_to_a_taken_name_is_a_409(client, admin):
    taken = plan_of(client, admin, create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}]))
    plan = plan_of(client, admin, create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}]))
    response = put(client, admin, plan, name=taken["name"].lower())
    assert response.status_code == 409
    assert error_of(response)["code"] == "NAME_TAKEN"


def test_a_deleted_plan_is_gone_its_name_is_free_and_its_executions_stay_readable(client, admin):
    plan = plan_of(client, admin, create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}]))
    execution_id = start(client, admin, plan["id"])
    wait_for(client, admin, execution_id, TERMINAL)

    stale = client.delete(f"/v1/recovery-plans/{plan['id']}?version=2", headers=admin)
    assert stale.status_code == 409 and error_of(stale)["code"] == "VERSION_CONFLICT"
    deleted = client.delete(f"/v1/recovery-plans/{plan['id']}?version=1", headers=admin)
    assert deleted.status_code == 200, deleted.get_json()

    assert client.get(f"/v1/recovery-plans/{plan['id']}", headers=admin).status_code == 404
    assert plan["id"] not in [p["id"] for p in client.get("/v1/recovery-plans", headers=admin).get_json()["items"]]
    assert client.get(f"/v1/executions/{execution_id}", headers=admin).get_json()["planId"] == plan["id"]
    again = {"name": plan["name"], "waves": [{"name": "w"}]}
    assert client.post("/v1/recovery-plans", json=again, headers=admin).status_code == 201


def test_a_plan_cannot_be_deleted_while_it_executes(client, admin):
    plan_id = create_plan(client, admin, [{"name": "db", "arns": [sim("db")], "pauseBeforeWave": True}])
    execution_id = start(client, admin, plan_id)
    wait_for(client, admin, execution_id, {"PAUSED"})

    response = client.delete(f"/v1/recovery-plans/{plan_id}?version=1", headers=admin)
    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]["executionId"]) == ("PLAN_EXECUTING", execution_id)
    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)


def test_a_deleted_plan_cannot_be_started(client, admin):
    plan_id = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    assert client.delete(f"/v1/recovery-plans/{plan_id}?version=1", headers=admin).status_code == 200
    response = client.post("/v1/executions", json={"planId": plan_id}, headers=admin)
    assert response.status_code == 404


def test_an_operator_may_not_edit_or_delete_plans(client, admin, token_for):
    plan = plan_of(client, admin, create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}]))
    operator = token_for("operator")
    assert put(client, operator, plan, description="x").status_code == 403
    assert client.delete(f"/v1/recovery-plans/{plan['id']}?version=1", headers=operator).status_code == 403
