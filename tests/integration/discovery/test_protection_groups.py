"""Protection group rules: selection shape, unique names, optimistic locking, immutable region, in-use checks."""

from __future__ import annotations

from discovery_support import at_once, error_of
from support import sim, start, unique, wait_for

TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}


def new_group(client, headers, *, arns=None, tags=None, region="us-west-2", name=None) -> dict:
    selection = {"tags": tags} if tags is not None else {"resourceArns": arns or [sim("g")]}
    body = {"name": name or unique("group"), "region": region, "selection": selection}
    response = client.post("/v1/protection-groups", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def new_plan(client, headers, group_ids: list[str], **wave) -> dict:
    body = {"name": unique("plan"), "waves": [{"name": "w1", "protectionGroupIds": group_ids, **wave}]}
    response = client.post("/v1/recovery-plans", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def put(client, headers, group: dict, **changes):
    body = {k: group[k] for k in ("name", "region", "accountId", "selection", "version")} | changes
    return client.put(f"/v1/protection-groups/{group['id']}", json=body, headers=headers)


def test_a_group_selected_by_tags_is_stored_with_its_tags(client, admin):
    group = new_group(client, admin, tags={"Customer": "ABCD", "Environment": "Production"})
    assert group["selection"] == {"tags": {"Customer": "ABCD", "Environment": "Production"}}
    assert group["version"] == 1


def test_a_selection_with_both_tags_and_arns_is_a_400_naming_the_selection(client, admin):
    body = {"name": unique("g"), "region": "us-west-2", "selection": {"tags": {"a": "b"}, "resourceArns": [sim("x")]}}
    response = client.post("/v1/protection-groups", json=body, headers=admin)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "INVALID_REQUEST" and error["message"].startswith("selection:")
    assert "not both" in error["message"]


def test_renaming_a_group_to_a_taken_name_in_another_case_is_a_409(client, admin):
    taken = new_group(client, admin)
    group = new_group(client, admin)
    response = put(client, admin, group, name=taken["name"].upper())
    assert response.status_code == 409
    assert error_of(response)["code"] == "NAME_TAKEN"


def test_an_update_with_the_current_version_replaces_the_group_and_bumps_its_version(client, admin):
    group = new_group(client, admin)
    response = put(client, admin, group, selection={"tags": {"Customer": "ABCD"}}, name=group["name"] + " v2")
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert (updated["version"], updated["selection"]) == (2, {"tags": {"Customer": "ABCD"}})
    assert client.get(f"/v1/protection-groups/{group['id']}", headers=admin).get_json()["version"] == 2


def test_an_update_with_a_stale_version_is_a_409_version_conflict(client, admin):
    group = new_group(client, admin)
    assert put(client, admin, group).status_code == 200
    response = put(client, admin, group)  # still version 1
    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]["currentVersion"]) == ("VERSION_CONFLICT", 2)


def test_the_region_of_a_group_cannot_change(client, admin):
    group = new_group(client, admin, region="us-west-2")
    response = put(client, admin, group, region="eu-west-1")
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]["field"]) == ("REGION_IMMUTABLE", "region")
    assert client.get(f"/v1/protection-groups/{group['id']}", headers=admin).get_json()["region"] == "us-west-2"


def test_a_group_a_plan_uses_cannot_be_deleted_until_the_plan_is_gone(client, admin):
    group = new_group(client, admin)
    plan = new_plan(client, admin, [group["id"]])

    refused = client.delete(f"/v1/protection-groups/{group['id']}?version=1", headers=admin)
    assert refused.status_code == 409
    error = error_of(refused)
    assert (error["code"], error["details"]["planIds"]) == ("PROTECTION_GROUP_IN_USE", [plan["id"]])

    assert client.delete(f"/v1/recovery-plans/{plan['id']}?version=1", headers=admin).status_code == 200
    deleted = client.delete(f"/v1/protection-groups/{group['id']}?version=1", headers=admin)
    assert deleted.status_code == 200, deleted.get_json()
    assert client.get(f"/v1/protection-groups/{group['id']}", headers=admin).status_code == 404


def test_deleting_a_group_with_a_stale_version_is_a_409(client, admin):
    group = new_group(client, admin)
    response = client.delete(f"/v1/protection-groups/{group['id']}?version=7", headers=admin)
    assert response.status_code == 409
    assert error_of(response)["code"] == "VERSION_CONFLICT"


def test_deleting_a_group_needs_the_version_naming_it(client, admin):
    group = new_group(client, admin)
    response = client.delete(f"/v1/protection-groups/{group['id']}", headers=admin)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("version:")


def test_a_group_cannot_be_edited_while_an_execution_of_a_plan_using_it_is_active(client, admin):
    group = new_group(client, admin)
    plan = new_plan(client, admin, [group["id"]], pauseBeforeWave=True)
    execution_id = start(client, admin, plan["id"])
    wait_for(client, admin, execution_id, {"PAUSED"})

    refused = put(client, admin, group, name=group["name"] + " edited")
    assert refused.status_code == 409
    error = error_of(refused)
    assert (error["code"], error["details"]["executionId"]) == ("PROTECTION_GROUP_EXECUTING", execution_id)

    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)
    wait_for(client, admin, execution_id, TERMINAL)
    assert put(client, admin, group, name=group["name"] + " edited").status_code == 200


def test_an_operator_may_not_edit_or_delete_groups(client, admin, token_for):
    group = new_group(client, admin)
    operator = token_for("operator")
    assert put(client, operator, group).status_code == 403
    assert client.delete(f"/v1/protection-groups/{group['id']}?version=1", headers=operator).status_code == 403


def test_simultaneous_creates_of_one_name_give_one_201_and_409s_never_a_500(app, admin):
    body = {"name": unique("race"), "region": "us-west-2", "selection": {"tags": {"Customer": "ABCD"}}}

    def create():
        return app.test_client().post("/v1/protection-groups", json=body, headers=admin)

    responses = at_once([create] * 5)

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    assert {error_of(r)["code"] for r in responses if r.status_code == 409} == {"NAME_TAKEN"}
