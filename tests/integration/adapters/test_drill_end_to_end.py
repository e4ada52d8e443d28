"""An end-to-end drill of the seeded demo estate through the API, scheduler and workers on the local AWS:
tag-derived waves of DRS, Aurora, ECS, Lambda and Route 53, a gate before wave 2, resume, then cleanup."""

from __future__ import annotations

import pytest

from deploy.localaws.seed import load_estate

PRIMARY, DR = "us-east-1", "us-west-2"
SCOPE = {"Customer": "ABCD", "Environment": "Production"}


@pytest.fixture
def estate(localaws):
    return load_estate(localaws.endpoint, reset=True)


def state_of_the_estate(aws, estate):
    """What the drill may change and the cleanup must put back, as an operator would look at it."""
    ecs = aws("ecs")
    services = {
        r["arn"]: ecs.describe_services(cluster=r["cluster"], services=[r["arn"]])["services"][0]["desiredCount"]
        for r in estate["resources"]
        if r["kind"] == "ecsServices" and r["cluster"] == "abcd-prod-dr"
    }
    functions = {
        r["name"]: aws("lambda").get_function_concurrency(FunctionName=r["name"]).get("ReservedConcurrentExecutions")
        for r in estate["resources"]
        if r["kind"] == "lambdaFunctions" and r["name"].startswith("abcd-prod")
    }
    (orders,) = aws("rds", PRIMARY).describe_global_clusters(GlobalClusterIdentifier="abcd-prod-orders")[
        "GlobalClusters"
    ]
    writer = next(m["DBClusterArn"] for m in orders["GlobalClusterMembers"] if m["IsWriter"])
    r53 = aws("route53", PRIMARY)
    records = {
        zone["Name"]: r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        for zone in r53.list_hosted_zones()["HostedZones"]
    }
    return {"ecs": services, "lambda": functions, "auroraWriter": writer, "route53": records}


def test_a_drill_of_the_demo_estate_pauses_before_wave_2_resumes_and_its_cleanup_leaves_no_instance(
    api, localaws, aws, estate, runs_of
):
    before = state_of_the_estate(aws, estate)
    plan = api.post(
        "/v1/recovery-plans",
        {"name": "ABCD production drill", "autoWaves": {"region": DR, "tags": SCOPE, "pauseBeforeWaves": [2]}},
        expect=201,
    )["id"]

    drill_id = api.start(plan, mode="drill", reason="quarterly DR drill")
    paused = api.wait(drill_id, {"PAUSED", "COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED"})
    assert paused["status"] == "PAUSED" and paused["pausedBeforeWave"] == 2
    assert paused["waves"][0]["status"] == "SUCCEEDED"
    assert {w["status"] for w in paused["waves"][1:]} == {"PENDING"}
    api.post(f"/v1/executions/{drill_id}/resume", {}, expect=200)
    drill = api.wait(drill_id)

    assert drill["status"] == "COMPLETED"
    runs = runs_of(drill)
    assert {run["adapter"] for run in runs.values()} == {"drs", "aurora", "ecs", "lambda", "route53"}
    assert {run["status"] for run in runs.values()} == {"SUCCEEDED"}
    waves = {run["adapter"]: [] for run in runs.values()}
    for wave in drill["waves"]:
        for run in wave["resources"]:
            waves[run["adapter"]].append(wave["number"])
    assert sorted(set(waves["drs"])) == [1, 2, 5] and waves["aurora"] == [1] and waves["route53"] == [2]
    drill_instances = aws("drs").describe_recovery_instances()["items"]
    assert len(drill_instances) == len(waves["drs"]) and all(i["isDrill"] for i in drill_instances)
    (route53,) = [run for run in runs.values() if run["adapter"] == "route53"]
    assert route53["detail"]["applied"] is False and route53["detail"]["note"] == "not applied in drill"
    during = state_of_the_estate(aws, estate)
    assert during["route53"] == before["route53"]  # a drill changes no live record
    assert during["auroraWriter"].startswith(f"arn:aws:rds:{DR}:")
    assert all(count > 0 for count in during["ecs"].values())

    cleanup_id = api.start(plan, mode="drill", phase="cleanup", sourceExecutionId=drill_id)
    cleanup = api.wait(cleanup_id, {"PAUSED", "COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED"})
    while cleanup["status"] == "PAUSED":  # the plan's approval gate holds the cleanup too
        api.post(f"/v1/executions/{cleanup_id}/resume", {}, expect=200)
        cleanup = api.wait(cleanup_id, {"PAUSED", "COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED"})

    assert cleanup["status"] == "COMPLETED", cleanup
    assert {run["status"] for run in runs_of(cleanup).values()} == {"SUCCEEDED"}
    started = sorted((w["startedAt"], w["number"]) for w in cleanup["waves"] if w["startedAt"])
    assert [number for _, number in started] == sorted((w["number"] for w in cleanup["waves"]), reverse=True)
    assert aws("drs").describe_recovery_instances()["items"] == []
    assert state_of_the_estate(aws, estate) == before


def test_a_drill_and_its_cleanup_with_half_of_all_aws_calls_throttled_fail_no_resource(
    api, localaws, aws, estate, runs_of
):
    before = state_of_the_estate(aws, estate)
    plan = api.post(
        "/v1/recovery-plans", {"name": "ABCD throttled drill", "autoWaves": {"region": DR, "tags": SCOPE}}, expect=201
    )["id"]
    drill_id = api.start(plan, mode="drill")  # discovery happens here, before AWS starts throttling
    localaws.throttle(0.5)

    drill = api.wait(drill_id)
    cleanup = api.wait(api.start(plan, mode="drill", phase="cleanup", sourceExecutionId=drill_id))

    throttled = localaws.throttled()
    localaws.clear_faults()
    assert drill["status"] == "COMPLETED" and {r["status"] for r in runs_of(drill).values()} == {"SUCCEEDED"}
    assert cleanup["status"] == "COMPLETED" and {r["status"] for r in runs_of(cleanup).values()} == {"SUCCEEDED"}
    assert {key.split(":")[0] for key in throttled} >= {"drs", "rds", "ecs", "lambda", "route53"}
    assert aws("drs").describe_recovery_instances()["items"] == []
    assert state_of_the_estate(aws, estate) == before
