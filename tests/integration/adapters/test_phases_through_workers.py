"""A recovery of one resource of each technology through the workers, then its activate, replicate and
cleanup executions over the same resources: what each phase does after a real (non-drill) recovery."""

from __future__ import annotations

from deploy.localaws.seed import load_estate

PRIMARY, DR = "us-east-1", "us-west-2"
NAMES = ["abcd-prod-db-01", "abcd-prod-orders-usw2", "abcd-prod-dr/web", "abcd-prod-ingest", "abcd-app-primary"]


def serving(aws) -> str:
    r53 = aws("route53", PRIMARY)
    zone = next(z["Id"] for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == "abcd.example.com.")
    records = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    (primary,) = [r for r in records if r["Name"] == "app.abcd.example.com." and r.get("Failover") == "PRIMARY"]
    return primary["ResourceRecords"][0]["Value"]


def writer(aws) -> str:
    (cluster,) = aws("rds", DR).describe_global_clusters(GlobalClusterIdentifier="abcd-prod-orders")["GlobalClusters"]
    return next(m["DBClusterArn"] for m in cluster["GlobalClusterMembers"] if m["IsWriter"])


def test_after_a_recovery_activate_checks_replicate_reverses_and_cleanup_restores_only_the_dns(
    api, localaws, aws, runs_of
):
    estate = load_estate(localaws.endpoint, reset=True)
    arn = {r["name"]: r["arn"] for r in estate["resources"]}
    plan = api.plan(
        [
            {"name": "Data", "arns": [arn["abcd-prod-db-01"], arn["abcd-prod-orders-usw2"]]},
            {"name": "Apps", "arns": [arn["abcd-prod-dr/web"], arn["abcd-prod-ingest"], arn["abcd-app-primary"]]},
        ]
    )

    recovery_id = api.start(plan, mode="recovery", reason="us-east-1 is down")
    recovery = api.wait(recovery_id)
    assert recovery["status"] == "COMPLETED", runs_of(recovery)
    assert serving(aws) == "app.usw2.abcd.example.com"
    assert writer(aws).startswith(f"arn:aws:rds:{DR}:")

    activate = api.wait(api.start(plan, mode="recovery", phase="activate", sourceExecutionId=recovery_id))
    assert activate["status"] == "COMPLETED", runs_of(activate)

    replicate = api.wait(api.start(plan, mode="recovery", phase="replicate", sourceExecutionId=recovery_id))
    assert replicate["status"] == "COMPLETED", runs_of(replicate)
    runs = runs_of(replicate)
    assert runs[arn["abcd-prod-db-01"]]["detail"]["reversedDirectionSourceServerArn"].startswith(
        f"arn:aws:drs:{PRIMARY}:"
    )
    assert all(
        runs[arn[n]]["detail"]["notApplicable"] for n in ("abcd-prod-dr/web", "abcd-prod-ingest", "abcd-app-primary")
    )

    cleanup = api.wait(api.start(plan, mode="recovery", phase="cleanup", sourceExecutionId=recovery_id))
    assert cleanup["status"] == "COMPLETED", runs_of(cleanup)
    assert serving(aws) == "app.use1.abcd.example.com"  # the records as they were before the recovery
    assert writer(aws).startswith(f"arn:aws:rds:{DR}:")  # a recovery's failover is kept
    (instance,) = aws("drs").describe_recovery_instances()["items"]
    assert instance["isDrill"] is False  # a recovery's instance serves production: kept
    (web,) = aws("ecs").describe_services(cluster="abcd-prod-dr", services=["web"])["services"]
    assert web["desiredCount"] == 4
