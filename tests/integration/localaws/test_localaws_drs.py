"""DRS as the adapters will see it: jobs over time, quotas, conflicts, failures, cleanup."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _start(drs, servers, **kwargs):
    return drs.start_recovery(
        sourceServers=[{"sourceServerID": s["sourceServerID"]} for s in servers], **kwargs
    )["job"]


def _job(drs, job_id):
    return drs.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]


def _completed(drs, job_id):
    job = _job(drs, job_id)
    return job if job["status"] == "COMPLETED" else None


def _no_longer_pending(drs, job_id):
    job = _job(drs, job_id)
    return job if job["status"] != "PENDING" else None


def test_a_drill_job_goes_from_pending_to_completed_and_launches_recovery_instances(
    admin, aws_client, wait_for
):
    admin.post("config", {"drsJobStepSeconds": 0.5})
    servers = admin.source_servers(servers=[{"hostname": "db-01"}, {"hostname": "app-01"}])
    drs = aws_client("drs")

    job = _start(drs, servers, isDrill=True, tags={"drwave:execution": "ex-1"})

    assert job["status"] == "PENDING"
    assert job["type"] == "LAUNCH" and job["initiatedBy"] == "START_DRILL"
    assert job["jobID"].startswith("drsjob-") and len(job["jobID"]) == 24
    assert {s["launchStatus"] for s in job["participatingServers"]} == {"PENDING"}
    started = wait_for(lambda: _no_longer_pending(drs, job["jobID"]))
    assert started["status"] == "STARTED"
    assert {s["launchStatus"] for s in started["participatingServers"]} == {"IN_PROGRESS"}

    done = wait_for(lambda: _completed(drs, job["jobID"]))
    assert {s["launchStatus"] for s in done["participatingServers"]} == {"LAUNCHED"}
    assert done["tags"] == {"drwave:execution": "ex-1"}
    assert "endDateTime" in done
    instances = drs.describe_recovery_instances()["items"]
    assert sorted(i["sourceServerID"] for i in instances) == sorted(s["sourceServerID"] for s in servers)
    assert all(i["isDrill"] and i["ec2InstanceState"] == "RUNNING" for i in instances)
    assert all(i["recoveryInstanceID"].startswith("i-") for i in instances)
    by_server = {s["sourceServerID"]: s["recoveryInstanceID"] for s in done["participatingServers"]}
    assert by_server == {i["sourceServerID"]: i["recoveryInstanceID"] for i in instances}
    described = drs.describe_source_servers(filters={"sourceServerIDs": [servers[0]["sourceServerID"]]})[
        "items"
    ]
    assert described[0]["lastLaunchResult"] == "SUCCEEDED"
    assert described[0]["lifeCycle"]["lastLaunch"]["initiated"]["jobID"] == job["jobID"]


def test_the_job_log_tells_the_story_of_the_job(admin, aws_client, wait_for):
    ok, bad = admin.source_servers(
        servers=[{"hostname": "ok-01"}, {"hostname": "bad-01", "failLaunch": True}]
    )
    drs = aws_client("drs")
    job = drs.start_recovery(
        sourceServers=[
            {"sourceServerID": s}
            for s in (ok["sourceServerID"], bad["sourceServerID"], "s-0000000000000000f")
        ]
    )["job"]
    wait_for(lambda: _completed(drs, job["jobID"]))

    log = drs.describe_job_log_items(jobID=job["jobID"])["items"]

    events = [(item["event"], item["eventData"].get("sourceServerID")) for item in log]
    assert events[0] == ("JOB_START", None)
    assert ("SERVER_SKIPPED", "s-0000000000000000f") in events
    assert ("LAUNCH_START", ok["sourceServerID"]) in events
    assert ("LAUNCH_START", bad["sourceServerID"]) in events
    assert ("LAUNCH_FAILED", bad["sourceServerID"]) in events
    assert ("LAUNCH_FAILED", ok["sourceServerID"]) not in events
    assert events[-1] == ("JOB_END", None)
    assert [s["sourceServerID"] for s in _job(drs, job["jobID"])["participatingServers"]] == [
        ok["sourceServerID"],
        bad["sourceServerID"],
    ]


def test_a_job_of_101_servers_is_refused_with_a_validation_error(admin, aws_client):
    servers = admin.source_servers(servers=[{"hostname": f"host-{n:03}"} for n in range(101)])
    drs = aws_client("drs")

    with pytest.raises(ClientError) as caught:
        _start(drs, servers)

    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert drs.describe_jobs()["items"] == []
    assert _start(drs, servers[:100])["status"] == "PENDING"


def test_a_server_already_in_an_active_job_cannot_join_another(admin, aws_client, wait_for):
    admin.post("config", {"drsJobStepSeconds": 1})
    first, second = admin.source_servers(servers=[{"hostname": "db-01"}, {"hostname": "db-02"}])
    drs = aws_client("drs")
    job = _start(drs, [first])

    with pytest.raises(ClientError) as caught:
        _start(drs, [second, first])

    error = caught.value.response
    assert error["Error"]["Code"] == "ConflictException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert first["sourceServerID"] in error["Error"]["Message"]
    assert job["jobID"] in error["Error"]["Message"]
    assert len(drs.describe_jobs()["items"]) == 1
    wait_for(lambda: _completed(drs, job["jobID"]))
    assert _start(drs, [second, first])["status"] == "PENDING"


def test_a_server_marked_to_fail_ends_failed_and_gets_no_recovery_instance(admin, aws_client, wait_for):
    good, flagged, tagged = admin.source_servers(
        servers=[
            {"hostname": "good"},
            {"hostname": "flagged", "failLaunch": True},
            {"hostname": "tagged", "tags": {"localaws:fail-launch": "true"}},
        ]
    )
    drs = aws_client("drs")
    job = _start(drs, [good, flagged, tagged])

    done = wait_for(lambda: _completed(drs, job["jobID"]))

    status = {s["sourceServerID"]: s["launchStatus"] for s in done["participatingServers"]}
    assert status == {
        good["sourceServerID"]: "LAUNCHED",
        flagged["sourceServerID"]: "FAILED",
        tagged["sourceServerID"]: "FAILED",
    }
    assert [i["sourceServerID"] for i in drs.describe_recovery_instances()["items"]] == [
        good["sourceServerID"]
    ]
    failed = drs.describe_source_servers(filters={"sourceServerIDs": [flagged["sourceServerID"]]})["items"][0]
    assert failed["lastLaunchResult"] == "FAILED"


def test_terminating_recovery_instances_runs_a_terminate_job_and_removes_them(admin, aws_client, wait_for):
    servers = admin.source_servers(servers=[{"hostname": "db-01"}, {"hostname": "app-01"}])
    drs = aws_client("drs")
    launch = _start(drs, servers, isDrill=True)
    wait_for(lambda: _completed(drs, launch["jobID"]))
    instance_ids = [i["recoveryInstanceID"] for i in drs.describe_recovery_instances()["items"]]
    assert len(instance_ids) == 2

    admin.post("config", {"drsJobStepSeconds": 0.5})
    terminate = drs.terminate_recovery_instances(recoveryInstanceIDs=instance_ids)["job"]

    assert terminate["type"] == "TERMINATE"
    assert terminate["initiatedBy"] == "TERMINATE_RECOVERY_INSTANCES"
    assert {i["ec2InstanceState"] for i in drs.describe_recovery_instances()["items"]} == {"SHUTTING-DOWN"}
    done = wait_for(lambda: _completed(drs, terminate["jobID"]))
    assert {s["launchStatus"] for s in done["participatingServers"]} == {"TERMINATED"}
    assert drs.describe_recovery_instances()["items"] == []
    described = drs.describe_source_servers()["items"]
    assert all("recoveryInstanceId" not in s for s in described)


def test_reverse_replication_creates_a_failback_source_server_in_the_origin_region(
    admin, aws_client, wait_for
):
    (server,) = admin.source_servers(servers=[{"hostname": "db-01", "originRegion": "us-east-1"}])
    drs = aws_client("drs")
    job = _start(drs, [server])
    wait_for(lambda: _completed(drs, job["jobID"]))
    (instance,) = drs.describe_recovery_instances()["items"]

    arn = drs.reverse_replication(recoveryInstanceID=instance["recoveryInstanceID"])[
        "reversedDirectionSourceServerArn"
    ]

    assert arn.startswith("arn:aws:drs:us-east-1:123456789012:source-server/s-")
    (reversed_server,) = aws_client("drs", region="us-east-1").describe_source_servers()["items"]
    assert reversed_server["arn"] == arn
    assert reversed_server["replicationDirection"] == "FAILBACK"
    original = drs.describe_source_servers()["items"][0]
    assert original["reversedDirectionSourceServerArn"] == arn
    with pytest.raises(ClientError) as caught:
        drs.reverse_replication(recoveryInstanceID="i-00000000000000000")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_source_servers_are_paginated_and_filtered_by_id(admin, aws_client):
    servers = admin.source_servers(servers=[{"hostname": f"host-{n:02}"} for n in range(25)])
    drs = aws_client("drs")

    pages = list(drs.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 10}))

    assert [len(page["items"]) for page in pages] == [10, 10, 5]
    seen = [item["sourceServerID"] for page in pages for item in page["items"]]
    assert seen == [s["sourceServerID"] for s in servers]
    picked = [servers[3]["sourceServerID"], servers[17]["sourceServerID"]]
    filtered = drs.describe_source_servers(filters={"sourceServerIDs": picked})["items"]
    assert [s["sourceServerID"] for s in filtered] == picked
    with pytest.raises(ClientError) as caught:
        drs.describe_source_servers(nextToken="not-a-token")
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_tags_on_source_servers_can_be_listed_added_and_removed(admin, aws_client):
    (server,) = admin.source_servers(
        servers=[{"hostname": "db-01", "tags": {"Customer": "ABCD", "old": "x"}}]
    )
    drs = aws_client("drs")
    arn = server["arn"]
    assert arn.startswith("arn:aws:drs:us-west-2:123456789012:source-server/s-")

    drs.tag_resource(resourceArn=arn, tags={"dr:priority": "high"})
    drs.untag_resource(resourceArn=arn, tagKeys=["old"])

    assert drs.list_tags_for_resource(resourceArn=arn)["tags"] == {"Customer": "ABCD", "dr:priority": "high"}
    assert drs.describe_source_servers()["items"][0]["tags"] == {"Customer": "ABCD", "dr:priority": "high"}
    with pytest.raises(ClientError) as caught:
        drs.list_tags_for_resource(resourceArn=arn.replace(server["sourceServerID"], "s-0000000000000000f"))
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_drs_state_is_separate_per_region(admin, aws_client):
    admin.source_servers(region="us-west-2", servers=[{"hostname": "west"}])

    assert len(aws_client("drs", region="us-west-2").describe_source_servers()["items"]) == 1
    assert aws_client("drs", region="eu-west-1").describe_source_servers()["items"] == []


def test_a_drs_operation_localaws_does_not_emulate_says_so(admin, aws_client):
    with pytest.raises(ClientError) as caught:
        aws_client("drs").get_replication_configuration(sourceServerID="s-0000000000000000f")

    assert caught.value.response["Error"]["Code"] == "NotImplemented"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
