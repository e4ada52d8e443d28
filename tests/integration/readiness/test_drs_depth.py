"""DRS depth on the local AWS: launch settings, EC2 -> DRS tag sync, recovery instances, job logs."""

from __future__ import annotations

import time

import pytest
from ready_support import sim_arn
from support import PRIMARY

QUIET = "ca-central-1"  # no group uses it: the periodic sync leaves it to the API
SYNCED = "ap-southeast-2"
NO_RIGHT_SIZING = {"targetInstanceTypeRightSizingMethod": "NONE"}  # DRS launches a set instance type only then
SETTINGS = {"launchDisposition": "STOPPED", **NO_RIGHT_SIZING, "copyTags": True}


def default_subnet(aws) -> dict:
    return aws("ec2").describe_subnets()["Subnets"][0]


def template_data(aws, server_id: str) -> dict:
    template = aws("drs").get_launch_configuration(sourceServerID=server_id)["ec2LaunchTemplateID"]
    (version,) = aws("ec2").describe_launch_template_versions(LaunchTemplateId=template, Versions=["$Default"])[
        "LaunchTemplateVersions"
    ]
    return version["LaunchTemplateData"]


def test_launch_settings_are_applied_to_drs_and_a_new_default_template_version_then_drift_shows(api, localaws, aws):
    one, two = localaws.source_servers({"hostname": "db-01"}, {"hostname": "db-02"})
    subnet = default_subnet(aws)
    base = subnet["CidrBlock"].split("/")[0].rsplit(".", 1)[0]
    settings = {
        **SETTINGS,
        "instanceType": "t3.small",
        "subnetId": subnet["SubnetId"],
        "staticPrivateIps": {one["sourceServerID"]: f"{base}.10", two["sourceServerID"]: f"{base}.11"},
    }
    group = api.group([one["arn"], two["arn"]], launchSettings=settings)
    before = api.get(f"/v1/protection-groups/{group}/launch-settings")
    assert {s["status"] for s in before["servers"]} == {"drifted"}

    applied = api.post(f"/v1/protection-groups/{group}/launch-settings/apply")

    assert {s["sourceServerId"]: s["status"] for s in applied["servers"]} == {
        one["sourceServerID"]: "applied",
        two["sourceServerID"]: "applied",
    }
    configuration = aws("drs").get_launch_configuration(sourceServerID=one["sourceServerID"])
    assert (configuration["launchDisposition"], configuration["copyTags"]) == ("STOPPED", True)
    data = template_data(aws, two["sourceServerID"])
    assert data["InstanceType"] == "t3.small"
    assert data["NetworkInterfaces"][0]["PrivateIpAddress"] == f"{base}.11"
    assert {s["status"] for s in api.get(f"/v1/protection-groups/{group}/launch-settings")["servers"]} == {"applied"}

    aws("drs").update_launch_configuration(sourceServerID=one["sourceServerID"], launchDisposition="STARTED")
    states = {s["sourceServerId"]: s for s in api.get(f"/v1/protection-groups/{group}/launch-settings")["servers"]}
    assert states[one["sourceServerID"]]["status"] == "drifted"
    assert states[one["sourceServerID"]]["driftedFields"] == ["launchDisposition"]
    assert states[two["sourceServerID"]]["status"] == "applied"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"instanceType": "zz9.enormous", **NO_RIGHT_SIZING}, "launchSettings.instanceType"),
        ({"instanceType": "t3.small"}, "launchSettings.instanceType"),  # right-sizing BASIC (the default)
        ({"staticPrivateIps": "outside"}, "launchSettings.staticPrivateIps."),
        ({"subnetId": "subnet-0000000000000000f"}, "launchSettings.subnetId"),
    ],
)
def test_launch_settings_the_region_cannot_honour_are_refused_naming_the_field(api, localaws, aws, settings, field):
    (server,) = localaws.source_servers({"hostname": "db-01"})
    subnet = default_subnet(aws)
    if settings.get("staticPrivateIps") == "outside":
        settings = {"subnetId": subnet["SubnetId"], "staticPrivateIps": {server["sourceServerID"]: "192.0.2.1"}}
    group = api.group([server["arn"]], launchSettings=settings)

    refused = api.call("POST", f"/v1/protection-groups/{group}/launch-settings/apply", {})

    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "INVALID_LAUNCH_SETTINGS" and error["details"]["field"].startswith(field)
    configuration = aws("drs").get_launch_configuration(sourceServerID=server["sourceServerID"])
    assert configuration["launchDisposition"] == "STARTED"  # nothing was written


def test_a_static_ip_given_to_two_servers_is_refused_when_the_group_is_saved(api, localaws):
    one, two = localaws.source_servers({"hostname": "db-01"}, {"hostname": "db-02"})
    ips = {one["sourceServerID"]: "10.0.0.5", two["sourceServerID"]: "10.0.0.5"}
    body = {"name": "dup", "region": "us-west-2", "selection": {"resourceArns": [one["arn"], two["arn"]]}}

    refused = api.call("POST", "/v1/protection-groups", {**body, "launchSettings": {"staticPrivateIps": ips}})

    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("launchSettings.staticPrivateIps")


def test_tag_sync_copies_ec2_tags_to_the_replicating_drs_server_and_deletes_only_with_prune(api, localaws, aws):
    ec2 = aws("ec2", PRIMARY)
    tags = [{"Key": "dr:enabled", "Value": "true"}, {"Key": "dr:wave", "Value": "2"}, {"Key": "Owner", "Value": "sre"}]
    instances = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=2, MaxCount=2, TagSpecifications=[{"ResourceType": "instance", "Tags": tags}]
    )["Instances"]
    replicated, orphan = instances[0]["InstanceId"], instances[1]["InstanceId"]
    (server,) = localaws.source_servers(
        {"hostname": "web-01", "awsInstanceId": replicated, "tags": {"stale": "x"}}, region=QUIET
    )
    request = {"region": QUIET, "tagKeys": ["dr:enabled", "dr:wave", "stale"]}

    dry = api.post("/v1/drs/tag-sync", {**request, "dryRun": True})
    assert (dry["synced"], dry["unchanged"]) == (1, 0)
    assert dry["changes"] == [
        {
            "sourceServerId": server["sourceServerID"],
            "awsInstanceId": replicated,
            "set": {"dr:enabled": "true", "dr:wave": "2"},
            "removed": [],
        }
    ]
    assert [m["awsInstanceId"] for m in dry["missingServers"]] == [orphan]
    assert aws("drs", QUIET).list_tags_for_resource(resourceArn=server["arn"])["tags"] == {"stale": "x"}

    api.post("/v1/drs/tag-sync", request)
    assert aws("drs", QUIET).list_tags_for_resource(resourceArn=server["arn"])["tags"] == {
        "stale": "x",
        "dr:enabled": "true",
        "dr:wave": "2",
    }
    again = api.post("/v1/drs/tag-sync", request)
    assert (again["synced"], again["unchanged"]) == (0, 1)

    pruned = api.post("/v1/drs/tag-sync", {**request, "prune": True})
    assert pruned["changes"][0]["removed"] == ["stale"]
    assert aws("drs", QUIET).list_tags_for_resource(resourceArn=server["arn"])["tags"] == {
        "dr:enabled": "true",
        "dr:wave": "2",
    }


def test_the_scheduler_syncs_tags_periodically_in_the_regions_groups_use(api, localaws, aws):
    ec2 = aws("ec2", PRIMARY)
    tags = [{"Key": "dr:enabled", "Value": "true"}, {"Key": "dr:priority", "Value": "high"}]
    (instance,) = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, TagSpecifications=[{"ResourceType": "instance", "Tags": tags}]
    )["Instances"]
    (server,) = localaws.source_servers({"hostname": "app-01", "awsInstanceId": instance["InstanceId"]}, region=SYNCED)
    api.group([server["arn"]], SYNCED)  # the periodic sync covers the Regions groups and plans use

    deadline = time.monotonic() + 120
    while aws("drs", SYNCED).list_tags_for_resource(resourceArn=server["arn"])["tags"] != {
        "dr:enabled": "true",
        "dr:priority": "high",
    }:
        assert time.monotonic() < deadline, "the tags never reached the DRS source server"
        time.sleep(0.3)


def test_recovery_instances_of_a_drill_are_listed_and_terminated_by_a_recovery_manager_only(api, api_as, localaws, aws):
    servers = localaws.source_servers({"hostname": "app-01"}, {"hostname": "app-02"})
    plan = api.plan([s["arn"] for s in servers])
    drill = api.wait(api.start(plan))

    listed = api_as("read-only").get(f"/v1/executions/{drill['id']}/recovery-instances")["items"]
    assert {i["sourceServerId"] for i in listed} == {s["sourceServerID"] for s in servers}
    assert {(i["state"], i["isDrill"]) for i in listed} == {("RUNNING", True)}
    assert all(i["launchTime"] and i["ec2InstanceId"] for i in listed)

    operator = api_as("operator").call("POST", f"/v1/executions/{drill['id']}/terminate-instances", {})
    assert operator.status_code == 403
    done = api_as("recovery-manager").post(f"/v1/executions/{drill['id']}/terminate-instances", {})
    assert sorted(done["terminated"]) == sorted(i["recoveryInstanceId"] for i in listed)
    states = {i["ec2InstanceState"] for i in aws("drs").describe_recovery_instances()["items"]}
    assert states <= {"SHUTTING-DOWN", "TERMINATED"}
    timeline = [e["kind"] for e in api.get(f"/v1/executions/{drill['id']}/events")["items"]]
    assert "execution.instances_terminated" in timeline


def test_a_recovery_s_instances_are_terminated_only_with_force(api, localaws, aws):
    (server,) = localaws.source_servers({"hostname": "db-01"})
    recovery = api.wait(api.start(api.plan([server["arn"]]), mode="recovery"))

    refused = api.call("POST", f"/v1/executions/{recovery['id']}/terminate-instances", {})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "RECOVERY_INSTANCES_SERVE_PRODUCTION"
    assert {i["ec2InstanceState"] for i in aws("drs").describe_recovery_instances()["items"]} == {"RUNNING"}

    forced = api.post(f"/v1/executions/{recovery['id']}/terminate-instances", {"force": True})
    assert len(forced["terminated"]) == 1


def test_the_job_log_of_a_drs_resource_and_its_latest_item_on_the_execution(api, localaws):
    ok, failing = localaws.source_servers({"hostname": "ok-01"}, {"hostname": "bad-01", "failLaunch": True})
    execution = api.wait(api.start(api.plan([ok["arn"], failing["arn"]])))
    runs = {r["arn"]: r for w in execution["waves"] for r in w["resources"]}

    log = api.get(f"/v1/executions/{execution['id']}/resources/{runs[failing['arn']]['id']}/log")

    events = [item["event"] for item in log["items"]]
    assert events[0] == "JOB_START" and "CONVERSION_START" in events and "LAUNCH_FAILED" in events
    assert all(item["at"] for item in log["items"])
    assert {item["eventData"].get("sourceServerID") for item in log["items"]} <= {None, failing["sourceServerID"]}
    assert runs[failing["arn"]]["latestJobLog"]["event"] == "LAUNCH_FAILED"
    assert runs[ok["arn"]]["latestJobLog"]["event"] == "LAUNCH_START"
    ok_log = api.get(f"/v1/executions/{execution['id']}/resources/{runs[ok['arn']]['id']}/log")
    assert "LAUNCH_FAILED" not in [item["event"] for item in ok_log["items"]]


def test_the_job_log_of_a_resource_run_that_is_not_drs_or_not_there_is_refused(api, localaws):
    execution = api.wait(api.start(api.plan([sim_arn("cache")])))
    (run,) = [r for w in execution["waves"] for r in w["resources"]]

    assert api.call("GET", f"/v1/executions/{execution['id']}/resources/{run['id']}/log").status_code == 400
    missing = api.call("GET", f"/v1/executions/{execution['id']}/resources/999999999/log")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "RESOURCE_RUN_NOT_FOUND"
