"""Target accounts: CRUD with optimistic locking and RBAC, validation, and cross-account discovery.

The local AWS maps credentials from ``sts.assume_role`` to the role's account (as AWS does), so a
target account's resources are created with assumed-role credentials and discovered through drwave's
own assume-role path.
"""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest
import requests
from discovery_support import DR, OTHER_ACCOUNT, add_source_servers, error_of

ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/drwave-discovery"
XACCT = {"Customer": "XACCT", "Environment": "Production"}


def new_account_id() -> str:
    return str(random.randrange(10**11, 10**12))


def body_for(account_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "accountId": account_id,
        "roleArn": f"arn:aws:iam::{account_id}:role/drwave",
        "externalId": "drwave-external-id",
        "regions": ["us-east-1", DR],
        **changes,
    }


def register(client, headers, account_id: str, **changes: Any) -> dict:
    response = client.post("/v1/target-accounts", json=body_for(account_id, **changes), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def put(client, headers, account: dict, **changes: Any):
    body = {k: account[k] for k in ("name", "roleArn", "externalId", "regions", "version")} | changes
    return client.put(f"/v1/target-accounts/{account['accountId']}", json=body, headers=headers)


# --- CRUD -----------------------------------------------------------------------------------------


def test_an_admin_registers_a_target_account_and_anyone_with_read_access_sees_it(client, admin, token_for):
    account_id = new_account_id()
    created = register(client, admin, account_id, name="Customer ABCD prod")
    assert (created["version"], created["regions"], created["externalId"]) == (
        1,
        ["us-east-1", DR],
        "drwave-external-id",
    )

    for role in ("recovery-manager", "read-only"):
        response = client.get(f"/v1/target-accounts/{account_id}", headers=token_for(role))
        assert response.status_code == 200 and response.get_json()["name"] == "Customer ABCD prod"
    listed = client.get("/v1/target-accounts", headers=token_for("operator")).get_json()["items"]
    assert account_id in [a["accountId"] for a in listed]


def test_only_admins_write_target_accounts(client, admin, token_for):
    account_id = new_account_id()
    for role in ("recovery-manager", "plan-manager", "operator"):
        response = client.post("/v1/target-accounts", json=body_for(account_id), headers=token_for(role))
        assert response.status_code == 403, role
    account = register(client, admin, account_id)
    assert put(client, token_for("recovery-manager"), account, name="x").status_code == 403
    path = f"/v1/target-accounts/{account_id}?version=1"
    assert client.delete(path, headers=token_for("recovery-manager")).status_code == 403


def test_registering_an_account_twice_is_a_409(client, admin):
    account_id = new_account_id()
    register(client, admin, account_id)
    response = client.post("/v1/target-accounts", json=body_for(account_id), headers=admin)
    assert response.status_code == 409
    assert error_of(response)["code"] == "TARGET_ACCOUNT_EXISTS"


def test_an_account_id_has_twelve_digits(client, admin):
    body = body_for("12345", roleArn="arn:aws:iam::123456789012:role/drwave")
    response = client.post("/v1/target-accounts", json=body, headers=admin)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("accountId:")


def test_the_role_must_belong_to_the_account_it_is_registered_for(client, admin):
    account_id = new_account_id()
    response = client.post(
        "/v1/target-accounts", json=body_for(account_id, roleArn="arn:aws:iam::999999999999:role/x"), headers=admin
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["details"]["field"] == "roleArn" and "999999999999" in error["message"]


def test_an_update_needs_the_current_version(client, admin):
    account = register(client, admin, new_account_id())
    updated = put(client, admin, account, regions=["eu-west-1"])
    assert updated.status_code == 200 and updated.get_json()["version"] == 2
    stale = put(client, admin, account, regions=["eu-west-2"])
    assert stale.status_code == 409
    assert error_of(stale)["code"] == "VERSION_CONFLICT"


def test_an_account_a_protection_group_uses_cannot_be_deleted(client, admin):
    account_id = new_account_id()
    register(client, admin, account_id)
    group = {"name": f"group {account_id}", "region": DR, "accountId": account_id, "selection": {"tags": XACCT}}
    group_id = client.post("/v1/protection-groups", json=group, headers=admin).get_json()["id"]

    refused = client.delete(f"/v1/target-accounts/{account_id}?version=1", headers=admin)
    assert refused.status_code == 409
    error = error_of(refused)
    assert (error["code"], error["details"]["usedBy"]) == ("TARGET_ACCOUNT_IN_USE", [group_id])

    assert client.delete(f"/v1/protection-groups/{group_id}?version=1", headers=admin).status_code == 200
    assert client.delete(f"/v1/target-accounts/{account_id}?version=1", headers=admin).status_code == 200
    assert client.get(f"/v1/target-accounts/{account_id}", headers=admin).status_code == 404


def test_an_account_an_auto_waved_plan_uses_cannot_be_deleted(client, admin):
    account_id = new_account_id()
    register(client, admin, account_id)
    auto = {"accountId": account_id, "region": DR, "tags": XACCT}
    plan = client.post("/v1/recovery-plans", json={"name": f"plan {account_id}", "autoWaves": auto}, headers=admin)

    refused = client.delete(f"/v1/target-accounts/{account_id}?version=1", headers=admin)

    assert refused.status_code == 409
    assert error_of(refused)["details"]["usedBy"] == [plan.get_json()["id"]]


def test_deleting_an_account_with_a_stale_version_is_a_409(client, admin):
    account = register(client, admin, new_account_id())
    assert put(client, admin, account, name="renamed").status_code == 200
    response = client.delete(f"/v1/target-accounts/{account['accountId']}?version=1", headers=admin)
    assert response.status_code == 409
    assert error_of(response)["code"] == "VERSION_CONFLICT"


# --- through the local AWS ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_account(estate, local_aws) -> dict[str, list[str]]:
    """Resources in account 111111111111 (created with assumed-role credentials) plus a look-alike in
    drwave's own account that must not be found there."""
    sts = boto3.client("sts", region_name="us-east-1")
    credentials = sts.assume_role(RoleArn=ROLE, RoleSessionName="estate-setup", ExternalId="x-acct-setup")[
        "Credentials"
    ]
    rds = boto3.client(
        "rds",
        region_name=DR,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    tags = {**XACCT, "dr:enabled": "true", "dr:priority": "critical"}
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="xacct-orders",
        Engine="aurora-postgresql",
        MasterUsername="drwave",
        MasterUserPassword="localaws-password",
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )["DBCluster"]["DBClusterArn"]
    servers = add_source_servers(
        local_aws,
        DR,
        [{"hostname": "xacct-app-01", "tags": {**XACCT, "dr:enabled": "true", "dr:priority": "high"}}],
        account=OTHER_ACCOUNT,
    )
    decoy = add_source_servers(local_aws, DR, [{"hostname": "decoy", "tags": {**XACCT, "dr:enabled": "true"}}])
    return {"other": sorted([cluster, servers[0]["arn"]]), "own": [decoy[0]["arn"]]}


@pytest.fixture(scope="module")
def target(app, admin, other_account) -> str:
    body = body_for(OTHER_ACCOUNT, roleArn=ROLE, externalId="drwave-ext-1", regions=[DR, "eu-central-1"])
    response = app.test_client().post("/v1/target-accounts", json=body, headers=admin)
    assert response.status_code in (201, 409), response.get_json()  # 409: a reused test database
    return OTHER_ACCOUNT


def test_discovery_in_a_target_account_finds_its_resources_through_the_assumed_role(
    client, admin, target, other_account
):
    query = [("accountId", target), ("region", DR), ("tag", "Customer=XACCT")]
    response = client.get("/v1/resources", query_string=query, headers=admin)

    assert response.status_code == 200, response.get_json()
    found = {item["arn"]: item for item in response.get_json()["items"]}
    assert sorted(found) == other_account["other"]
    assert all(f":{OTHER_ACCOUNT}:" in arn for arn in found)
    assert sorted((item["adapter"], item["wave"]) for item in found.values()) == [("aurora", 1), ("drs", 2)]


def test_an_auto_waved_plan_in_a_target_account_validates_with_that_accounts_resources(
    client, admin, target, other_account
):
    auto = {"accountId": target, "region": DR, "tags": XACCT}
    plan_id = client.post("/v1/recovery-plans", json={"name": "x-acct plan", "autoWaves": auto}, headers=admin)
    report = client.post(f"/v1/recovery-plans/{plan_id.get_json()['id']}/validate", headers=admin).get_json()
    assert report["errors"] == [] and report["warnings"] == []
    # the cluster stands alone (no global cluster), so preflight says a recovery could not fail over to it
    failed = {(c["name"], c["resourceArn"].split(":")[4]) for c in report["checks"] if c["status"] != "ok"}
    assert failed == {("aurora.globalCluster", OTHER_ACCOUNT)} and report["ready"] is False
    assert {c["name"] for c in report["checks"] if c["status"] == "ok"} >= {"targetAccount.role", "drs.replication"}
    assert sorted(r["arn"] for w in report["waves"] for r in w["resources"]) == other_account["other"]


def test_a_region_the_target_account_does_not_list_is_refused(client, admin, target):
    query = [("accountId", target), ("region", "eu-west-1")]
    response = client.get("/v1/resources", query_string=query, headers=admin)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]["field"]) == ("REGION_NOT_ENABLED", "region")


def test_validating_a_target_account_assumes_its_role_and_counts_what_it_sees_per_region(
    client, token_for, target, other_account
):
    response = client.post(f"/v1/target-accounts/{target}/validate", headers=token_for("recovery-manager"))

    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["ok"] is True and "assumed-role/drwave-discovery" in report["identity"]
    by_region = {r["region"]: r for r in report["regions"]}
    assert by_region[DR]["counts"] == {"total": 2, "valid": 2, "invalid": 0, "notEnrolled": 0}
    assert by_region[DR]["adapters"] == {"aurora": 1, "drs": 1}
    assert by_region["eu-central-1"]["counts"]["total"] == 0
    assert "2 DR-tagged resources" in report["message"]


def test_a_target_account_whose_role_cannot_be_used_validates_as_not_ok(client, admin, estate, local_aws):
    account_id = new_account_id()
    register(client, admin, account_id)
    rule = {"service": "sts", "operation": "*", "throttleRate": 1.0}
    requests.post(f"{local_aws}/_localaws/faults", json=rule, timeout=10).raise_for_status()
    try:
        response = client.post(f"/v1/target-accounts/{account_id}/validate", headers=admin)
    finally:
        requests.delete(f"{local_aws}/_localaws/faults", timeout=10).raise_for_status()

    assert response.status_code == 200
    report = response.get_json()
    assert (report["ok"], report["regions"]) == (False, [])
    assert "cannot assume" in report["error"] and "Throttl" in report["error"]
