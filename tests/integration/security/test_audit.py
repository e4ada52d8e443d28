"""The audit log: every create, update and delete of groups, plans, target accounts and tokens is
recorded with actor, time and the fields before and after — in the transaction of the change."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import text

from shared.domain.roles import Role
from shared.store import tokens


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def group_body(**changes) -> dict:
    return {"name": unique("audited"), "region": "us-west-2", "selection": {"tags": {"App": "a"}}, **changes}


def entries(client, headers, **query) -> list[dict]:
    response = client.get("/v1/audit", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


@pytest.fixture()
def manager(db):
    """Headers of a fresh plan-manager token, and its name (the audit's actor filter)."""
    who = f"pm-{uuid.uuid4().hex[:8]}"
    with db.engine.begin() as conn:
        token = tokens.create(conn, who, Role.PLAN_MANAGER)
    return {"Authorization": f"Bearer {token}"}, who


def test_a_group_s_create_update_and_delete_are_audited_with_before_and_after(client, admin, manager):
    headers, who = manager
    created = client.post("/v1/protection-groups", json=group_body(), headers=headers).get_json()
    group_id = created["id"]
    renamed = unique("renamed")
    update = {**group_body(name=renamed), "version": 1}
    assert client.put(f"/v1/protection-groups/{group_id}", json=update, headers=headers).status_code == 200
    deleted = client.delete(f"/v1/protection-groups/{group_id}", query_string={"version": 2}, headers=headers)
    assert deleted.status_code == 200

    log = entries(client, admin, entity="protection-group", entityId=group_id)
    assert [e["action"] for e in log] == ["delete", "update", "create"]  # newest first
    delete, change, create = log
    assert {e["actor"] for e in log} == {f"{who} (plan-manager)"}
    assert create["before"] is None and create["after"]["name"] == created["name"]
    assert change["before"]["name"] == created["name"] and change["after"]["name"] == renamed
    assert change["before"]["version"] == 1 and change["after"]["version"] == 2
    assert delete["before"]["name"] == renamed and delete["after"] is None
    assert entries(client, admin, actor=who) == log  # the token name finds its entries, whatever the role


def test_plans_and_target_accounts_are_audited(client, admin):
    group = client.post("/v1/protection-groups", json=group_body(), headers=admin).get_json()
    plan_body = {"name": unique("plan"), "waves": [{"name": "db", "protectionGroupIds": [group["id"]]}]}
    plan = client.post("/v1/recovery-plans", json=plan_body, headers=admin).get_json()
    changed = {**plan_body, "description": "now described", "version": 1}
    assert client.put(f"/v1/recovery-plans/{plan['id']}", json=changed, headers=admin).status_code == 200
    assert client.delete(f"/v1/recovery-plans/{plan['id']}?version=2", headers=admin).status_code == 200
    plan_log = entries(client, admin, entity="recovery-plan", entityId=plan["id"])
    assert [e["action"] for e in plan_log] == ["delete", "update", "create"]
    assert plan_log[1]["before"]["description"] is None and plan_log[1]["after"]["description"] == "now described"

    account_id = str(random.randrange(10**11, 10**12))
    account = {"accountId": account_id, "roleArn": f"arn:aws:iam::{account_id}:role/dr", "regions": ["us-east-1"]}
    assert client.post("/v1/target-accounts", json=account, headers=admin).status_code == 201
    update = {"roleArn": account["roleArn"], "regions": ["us-east-1", "us-west-2"], "version": 1}
    assert client.put(f"/v1/target-accounts/{account_id}", json=update, headers=admin).status_code == 200
    assert client.delete(f"/v1/target-accounts/{account_id}?version=2", headers=admin).status_code == 200
    account_log = entries(client, admin, entity="target-account", entityId=account_id)
    assert [e["action"] for e in account_log] == ["delete", "update", "create"]
    assert account_log[1]["before"]["regions"] == ["us-east-1"]
    assert account_log[1]["after"]["regions"] == ["us-east-1", "us-west-2"]


def test_token_creation_and_revocation_are_audited_without_the_secret(client, admin):
    created = client.post("/v1/tokens", json={"name": unique("audited-bot"), "role": "operator"}, headers=admin)
    token = created.get_json()
    assert client.delete(f"/v1/tokens/{token['id']}", headers=admin).status_code == 200
    log = entries(client, admin, entity="token", entityId=str(token["id"]))
    assert [e["action"] for e in log] == ["update", "create"]
    assert log[0]["before"]["revoked_at"] is None and log[0]["after"]["revoked_at"] is not None
    assert token["token"] not in str(log) and "token_hash" not in str(log)


def test_a_refused_change_leaves_no_audit_entry(client, admin):
    group = client.post("/v1/protection-groups", json=group_body(), headers=admin).get_json()
    stale = {**group_body(name=group["name"]), "version": 7}
    assert client.put(f"/v1/protection-groups/{group['id']}", json=stale, headers=admin).status_code == 409
    assert [e["action"] for e in entries(client, admin, entityId=group["id"])] == ["create"]


def test_a_change_whose_audit_entry_cannot_be_written_is_not_made(client, db, admin):
    """Same transaction: sabotage the audit insert for one actor, and that actor's change rolls back."""
    poisoned = f"poison-{uuid.uuid4().hex[:8]}"
    constraint = f"no_{poisoned.replace('-', '_')}"
    with db.engine.begin() as conn:
        token = tokens.create(conn, poisoned, Role.ADMIN)
        conn.execute(text(f"ALTER TABLE audit_log ADD CONSTRAINT {constraint} CHECK (actor NOT LIKE '{poisoned}%')"))
    try:
        body = group_body()
        response = client.post("/v1/protection-groups", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 500
    finally:
        with db.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE audit_log DROP CONSTRAINT {constraint}"))
    names = [g["name"] for g in client.get("/v1/protection-groups", headers=admin).get_json()["items"]]
    assert body["name"] not in names


def test_the_log_pages_newest_first_with_a_cursor(client, admin):
    group = client.post("/v1/protection-groups", json=group_body(), headers=admin).get_json()
    for version in (1, 2, 3):
        body = {**group_body(name=unique("page")), "version": version}
        assert client.put(f"/v1/protection-groups/{group['id']}", json=body, headers=admin).status_code == 200
    first = client.get("/v1/audit", query_string={"entityId": group["id"], "limit": 3}, headers=admin).get_json()
    assert [e["after"]["version"] for e in first["items"]] == [4, 3, 2]
    rest = client.get(
        "/v1/audit", query_string={"entityId": group["id"], "limit": 3, "cursor": first["nextCursor"]}, headers=admin
    ).get_json()
    assert [e["action"] for e in rest["items"]] == ["create"] and rest["nextCursor"] is None
    bad = client.get("/v1/audit", query_string={"cursor": "nope"}, headers=admin)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "INVALID_CURSOR"
    unknown = client.get("/v1/audit", query_string={"entity": "execution"}, headers=admin)
    assert unknown.status_code == 400 and unknown.get_json()["error"]["message"].startswith("entity:")


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("recovery-manager", 200), ("plan-manager", 403), ("operator", 403), ("read-only", 403)],
)
def test_admins_and_recovery_managers_read_the_audit_log(client, token_for, role, status):
    assert client.get("/v1/audit", headers=token_for(role)).status_code == status
