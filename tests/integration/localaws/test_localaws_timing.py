"""How long emulated operations take, when they completed, and how hard each account+Region is called."""

from __future__ import annotations

import time

DR = "us-west-2"


def _service(ecs):
    ecs.create_cluster(clusterName="dr")
    ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 256, "essential": True}]
    )
    return ecs.create_service(cluster="dr", serviceName="web", taskDefinition="web", desiredCount=0)["service"]


def _state(ecs, arn):
    (service,) = ecs.describe_services(cluster="dr", services=[arn])["services"]
    primary = next(d for d in service["deployments"] if d["status"] == "PRIMARY")
    return service["desiredCount"], service["runningCount"], primary["rolloutState"]


def test_an_ecs_scale_up_rolls_out_over_the_configured_time_and_is_listed_as_completed(admin, aws_client, wait_for):
    admin.post("config", {"ecsRolloutSeconds": 0.5})
    ecs = aws_client("ecs")
    arn = _service(ecs)["serviceArn"]

    before = time.time()
    ecs.update_service(cluster="dr", service=arn, desiredCount=3)

    assert _state(ecs, arn) == (3, 0, "IN_PROGRESS")
    assert wait_for(lambda: _state(ecs, arn) == (3, 3, "COMPLETED"))
    (rollout,) = admin.get("completions")["ecsRollouts"]
    assert rollout["serviceArn"] == arn
    assert before + 0.5 <= rollout["completedAt"] <= time.time()


def test_without_a_rollout_time_an_ecs_scale_up_is_done_at_once(admin, aws_client):
    ecs = aws_client("ecs")
    arn = _service(ecs)["serviceArn"]

    ecs.update_service(cluster="dr", service=arn, desiredCount=2)

    assert _state(ecs, arn) == (2, 2, "COMPLETED")


def test_a_finished_drs_job_is_listed_with_its_emulated_completion_time(admin, aws_client, wait_for):
    (server,) = admin.source_servers(servers=[{"hostname": "db-01"}])
    drs = aws_client("drs")
    job = drs.start_recovery(sourceServers=[{"sourceServerID": server["sourceServerID"]}], isDrill=True)["job"]
    assert admin.get("completions")["drsJobs"] == []

    (done,) = wait_for(lambda: admin.get("completions")["drsJobs"])

    assert done["jobID"] == job["jobID"]
    assert done["sourceServerIDs"] == [server["sourceServerID"]]
    assert (done["accountId"], done["region"]) == ("123456789012", DR)


def test_calls_are_counted_per_account_and_region_with_the_busiest_second(admin, aws_client):
    drs_dr, drs_east = aws_client("drs", region=DR), aws_client("drs", region="us-east-1")
    for _ in range(3):
        drs_dr.describe_jobs()
    drs_east.describe_jobs()

    counted = admin.get("calls")

    assert counted["byAccountRegion"]["drs:DescribeJobs"] == {"123456789012/us-east-1": 1, "123456789012/us-west-2": 3}
    assert 1 <= counted["peakPerSecond"]["drs:DescribeJobs"]["123456789012/us-west-2"] <= 3
    assert counted["peakPerSecond"]["drs:DescribeJobs"]["123456789012/us-east-1"] == 1
