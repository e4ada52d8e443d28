"""activate / cleanup / replicate follow an earlier execution over the same resources, wave by wave."""

from __future__ import annotations

from datetime import datetime

from support import TERMINAL, create_plan, sim, start, wait_for


def started(wave: dict) -> datetime:
    return min(datetime.fromisoformat(r["startedAt"]) for r in wave["resources"])


def test_a_cleanup_runs_over_the_source_resources_in_descending_wave_order(client, admin):
    plan = create_plan(
        client,
        admin,
        [
            {"name": "db", "arns": [sim("db", 100)]},
            {"name": "app", "arns": [sim("app", 100), sim("app2")]},
            {"name": "web", "arns": [sim("web", 100)]},
        ],
    )
    source = wait_for(client, admin, start(client, admin, plan), TERMINAL)
    assert source["status"] == "COMPLETED"
    response = client.post(
        "/v1/executions", json={"planId": plan, "phase": "cleanup", "sourceExecutionId": source["id"]}, headers=admin
    )
    assert response.status_code == 202, response.get_json()
    assert "following " + source["id"] in response.get_json()["message"]
    cleanup = wait_for(client, admin, response.get_json()["execution"]["id"], TERMINAL)
    assert (cleanup["status"], cleanup["phase"], cleanup["sourceExecutionId"]) == ("COMPLETED", "cleanup", source["id"])
    arns = lambda e: sorted(r["arn"] for w in e["waves"] for r in w["resources"])  # noqa: E731
    assert arns(cleanup) == arns(source)
    db_wave, app_wave, web_wave = cleanup["waves"]
    assert started(web_wave) < started(app_wave) < started(db_wave)


def test_activate_takes_only_the_resources_that_succeeded_before(client, admin):
    broken = sim("app-broken", fail=True)
    plan = create_plan(client, admin, [{"name": "app", "arns": [sim("app"), broken]}])
    source = wait_for(client, admin, start(client, admin, plan), TERMINAL)
    execution_id = start(client, admin, plan, phase="activate", sourceExecutionId=source["id"])
    done = wait_for(client, admin, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED"
    assert broken not in [r["arn"] for w in done["waves"] for r in w["resources"]]
    assert len(done["waves"][0]["resources"]) == 1


def test_a_phase_keeps_the_mode_of_the_execution_it_follows(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    source = wait_for(client, admin, start(client, admin, plan, mode="recovery"), TERMINAL)
    execution_id = start(client, admin, plan, phase="replicate", sourceExecutionId=source["id"])
    assert wait_for(client, admin, execution_id, TERMINAL)["mode"] == "recovery"


def test_a_phase_without_a_source_execution_is_refused_naming_the_field(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    response = client.post("/v1/executions", json={"planId": plan, "phase": "cleanup"}, headers=admin)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["details"]["field"]) == ("SOURCE_EXECUTION_REQUIRED", "sourceExecutionId")


def test_a_phase_must_follow_an_execution_of_the_same_plan(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")], "pauseBeforeWave": True}])
    other_plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    source_id = start(client, admin, plan)
    wait_for(client, admin, source_id, {"PAUSED"})
    body = {"planId": other_plan, "phase": "cleanup", "sourceExecutionId": source_id}
    response = client.post("/v1/executions", json=body, headers=admin)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "SOURCE_EXECUTION_MISMATCH"
    client.post(f"/v1/executions/{source_id}/cancel", headers=admin)
    wait_for(client, admin, source_id, TERMINAL)


def test_a_phase_following_an_unknown_execution_is_a_404(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    body = {"planId": plan, "phase": "activate", "sourceExecutionId": "ex-0"}
    response = client.post("/v1/executions", json=body, headers=admin)
    assert response.status_code == 404
    assert response.get_json()["error"]["details"]["field"] == "sourceExecutionId"
