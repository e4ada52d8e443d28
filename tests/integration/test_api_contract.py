"""Bad input gets a 4xx with a code and a message naming the field — never a 500; auth on everything."""

from __future__ import annotations

import pytest
from support import create_plan, sim, unique

SIM_ARN = "arn:drwave:simulated:us-west-2:123456789012:resource/x"


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "details"} <= set(body["error"]), body
    return body["error"]


def test_a_request_without_a_token_is_refused_with_401(client):
    response = client.get("/v1/executions")
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHENTICATED"


def test_a_request_with_an_unknown_token_is_refused_with_401(client):
    response = client.get("/v1/executions", headers={"Authorization": "Bearer drw_not-a-real-token"})
    assert response.status_code == 401


def test_healthz_needs_no_token(client):
    assert client.get("/healthz").status_code == 200


def test_readyz_reports_postgres_and_redis_and_no_processes_when_drwave_run_does_not_supervise_it(client):
    body = client.get("/readyz").get_json()
    assert body == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}, "processes": None}


def test_a_read_only_token_may_read_but_not_start_executions(client, token_for, admin):
    reader = token_for("read-only")
    assert client.get("/v1/executions", headers=reader).status_code == 200
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    response = client.post("/v1/executions", json={"planId": plan}, headers=reader)
    assert response.status_code == 403
    assert error_of(response)["code"] == "FORBIDDEN"


def test_an_operator_may_not_create_plans_and_a_plan_manager_may_not_start_them(client, token_for, admin):
    body = {"name": unique("p"), "waves": [{"name": "w"}]}
    assert client.post("/v1/recovery-plans", json=body, headers=token_for("operator")).status_code == 403
    plan = create_plan(client, token_for("plan-manager"), [{"name": "db", "arns": [sim("db")]}])
    response = client.post("/v1/executions", json={"planId": plan}, headers=token_for("plan-manager"))
    assert response.status_code == 403


def test_only_roles_with_cleanup_permission_may_start_a_cleanup(client, token_for, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    response = client.post("/v1/executions", json={"planId": plan, "phase": "cleanup"}, headers=token_for("operator"))
    assert response.status_code == 403
    assert "executions:cleanup" in error_of(response)["message"]


def test_me_names_the_token_its_role_and_permissions(client, token_for):
    body = client.get("/v1/me", headers=token_for("operator")).get_json()
    assert body["role"] == "operator"
    assert "executions:control" in body["permissions"] and "recovery-plans:write" not in body["permissions"]


def test_malformed_json_is_a_400_naming_the_body(client, admin):
    response = client.post("/v1/executions", data='{"planId": ', content_type="application/json", headers=admin)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["message"].startswith("body: not valid JSON")) == ("MALFORMED_JSON", True)


def test_a_json_array_instead_of_an_object_is_a_400(client, admin):
    response = client.post("/v1/executions", json=[1, 2], headers=admin)
    assert response.status_code == 400
    assert error_of(response)["message"] == "body: expected a JSON object"


def test_an_unknown_field_is_a_400_naming_the_field(client, admin):
    response = client.post("/v1/executions", json={"planId": "plan-1", "colour": "red"}, headers=admin)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "INVALID_REQUEST" and error["message"].startswith("colour:")


def test_a_missing_required_field_is_a_400_naming_the_field(client, admin):
    response = client.post("/v1/executions", json={"mode": "drill"}, headers=admin)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("planId:")


def test_a_wrong_enum_value_names_the_nested_field(client, admin):
    body = {"name": unique("p"), "waves": [{"name": "w", "onFailure": "explode"}]}
    response = client.post("/v1/recovery-plans", json=body, headers=admin)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("waves[0].onFailure:")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "recovery", "failover": "sideways"}, "failover"),
        ({"mode": "recovery", "allowDataLoss": "yes"}, "allowDataLoss"),
        ({"mode": "drill", "failover": "ungraceful"}, "failover"),
        ({"mode": "drill", "allowDataLoss": True}, "allowDataLoss"),
    ],
)
def test_a_bad_failover_option_is_a_400_naming_the_field(client, admin, body, field):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")]}])
    response = client.post("/v1/executions", json={"planId": plan, **body}, headers=admin)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "INVALID_REQUEST" and error["message"].startswith(f"{field}:")
    assert [e["field"] for e in error["details"]["errors"]] == [field]


def test_a_recoverys_failover_options_are_in_its_detail_and_a_drills_show_a_switchover(client, admin):
    recovery_plan, drill_plan = (
        create_plan(client, admin, [{"name": "db", "arns": [sim("db")], "pauseBeforeWave": True}])
        for _ in range(2)
    )
    body = {"planId": recovery_plan, "mode": "recovery", "failover": "ungraceful", "allowDataLoss": True}
    started = client.post("/v1/executions", json=body, headers=admin).get_json()["execution"]
    drill = client.post("/v1/executions", json={"planId": drill_plan, "failover": "auto"}, headers=admin)
    drill_id = drill.get_json()["execution"]["id"]

    detail = client.get(f"/v1/executions/{started['id']}", headers=admin).get_json()
    drill_detail = client.get(f"/v1/executions/{drill_id}", headers=admin).get_json()
    for execution_id in (started["id"], drill_id):
        client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)

    assert (started["failover"], started["allowDataLoss"]) == ("ungraceful", True)
    assert (detail["failover"], detail["allowDataLoss"]) == ("ungraceful", True)
    assert (drill_detail["failover"], drill_detail["allowDataLoss"]) == ("graceful", False)


def test_starting_a_plan_that_does_not_exist_is_a_404_naming_plan_id(client, admin):
    response = client.post("/v1/executions", json={"planId": "plan-does-not-exist"}, headers=admin)
    assert response.status_code == 404
    error = error_of(response)
    assert (error["code"], error["details"]["field"]) == ("PLAN_NOT_FOUND", "planId")


def test_a_plan_naming_an_unknown_protection_group_is_a_400_naming_the_position(client, admin):
    body = {"name": unique("p"), "waves": [{"name": "w", "protectionGroupIds": ["pg-nope"]}]}
    response = client.post("/v1/recovery-plans", json=body, headers=admin)
    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "waves[0].protectionGroupIds[0]"


def test_an_invalid_simulated_arn_refuses_the_start_listing_it(client, admin):
    bad = "arn:drwave:simulated:us-west-2:123456789012:resource/x/soon"
    plan = create_plan(client, admin, [{"name": "db", "arns": [bad, sim("ok")]}])
    response = client.post("/v1/executions", json={"planId": plan}, headers=admin)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "INVALID_RESOURCES" and error["details"]["invalid"][0]["arn"] == bad


def test_a_plan_already_executing_cannot_be_started_twice(client, admin):
    plan = create_plan(client, admin, [{"name": "db", "arns": [sim("db")], "pauseBeforeWave": True}])
    first = client.post("/v1/executions", json={"planId": plan}, headers=admin).get_json()["execution"]["id"]
    response = client.post("/v1/executions", json={"planId": plan}, headers=admin)
    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]["executionId"]) == ("PLAN_ALREADY_EXECUTING", first)
    client.post(f"/v1/executions/{first}/cancel", headers=admin)


def test_an_unknown_execution_is_a_404(client, admin):
    for method, path in [
        ("get", "/v1/executions/ex-0"),
        ("post", "/v1/executions/ex-0/resume"),
        ("get", "/v1/executions/ex-0/events"),
    ]:
        response = getattr(client, method)(path, headers=admin)
        assert response.status_code == 404
        assert error_of(response)["code"] == "EXECUTION_NOT_FOUND"


def test_every_endpoint_naming_a_missing_group_plan_or_account_answers_the_same_404(client, admin):
    group = ("PROTECTION_GROUP_NOT_FOUND", "no protection group 'pg-0'")
    plan = ("PLAN_NOT_FOUND", "no recovery plan 'plan-0'")
    for method, path, expected in [
        ("get", "/v1/protection-groups/pg-0", group),
        ("get", "/v1/protection-groups/pg-0/launch-settings", group),
        ("get", "/v1/recovery-plans/plan-0", plan),
        ("get", "/v1/recovery-plans/plan-0/readiness", plan),
        ("post", "/v1/recovery-plans/plan-0/validate", ("PLAN_NOT_FOUND", "planId: no recovery plan 'plan-0'")),
        ("get", "/v1/target-accounts/000000000000", ("TARGET_ACCOUNT_NOT_FOUND", "no target account '000000000000'")),
    ]:
        response = getattr(client, method)(path, headers=admin)
        assert response.status_code == 404, path
        error = error_of(response)
        assert (error["code"], error["message"]) == expected, path


def test_a_duplicate_protection_group_name_is_a_409_whatever_its_case(client, admin):
    name = unique("Databases")
    body = {"name": name, "region": "us-west-2", "selection": {"resourceArns": [sim("a")]}}
    assert client.post("/v1/protection-groups", json=body, headers=admin).status_code == 201
    response = client.post("/v1/protection-groups", json={**body, "name": name.upper()}, headers=admin)
    assert response.status_code == 409


def test_a_plan_with_a_taken_name_is_a_409_before_its_waves_are_checked(client, admin):
    name = unique("plan")
    first = client.post("/v1/recovery-plans", json={"name": name, "waves": [{"name": "w"}]}, headers=admin)
    assert first.status_code == 201
    body = {"name": name.upper(), "waves": [{"name": "w", "protectionGroupIds": ["pg-nope"]}]}
    response = client.post("/v1/recovery-plans", json=body, headers=admin)
    assert response.status_code == 409
    assert (error_of(response)["code"], error_of(response)["details"]["field"]) == ("NAME_TAKEN", "name")


def test_a_body_larger_than_the_limit_is_a_413(client, admin):
    huge = {"name": "x", "region": "us-west-2", "selection": {"resourceArns": [SIM_ARN] * 40_000}}
    response = client.post("/v1/protection-groups", json=huge, headers=admin)
    assert response.status_code == 413
    assert error_of(response)["code"] == "REQUEST_ENTITY_TOO_LARGE"


def test_a_non_json_body_is_refused_with_415(client, admin):
    response = client.post("/v1/executions", data="planId=1", content_type="text/plain", headers=admin)
    assert response.status_code == 415


def test_a_bad_cursor_is_a_400(client, admin):
    response = client.get("/v1/executions?cursor=not-a-cursor", headers=admin)
    assert response.status_code == 400
    assert error_of(response)["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize("path", ["/openapi.json"])
def test_the_openapi_document_describes_the_executions_api(client, path):
    document = client.get(path).get_json()
    assert document["openapi"].startswith("3.")
    assert "/v1/executions/{id}/resume" in document["paths"]
    assert "ExecutionStart" in document["components"]["schemas"]
