"""The demo estate loads through boto3 and discovery finds it, tags and all.

Expectations are computed from the YAML itself, so the estate can change without touching tests.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from deploy.localaws.seed import DEMO_ESTATE, load_estate


def _estate():
    return yaml.safe_load(DEMO_ESTATE.read_text(encoding="utf-8"))


def _region(estate, name, default):
    return estate["regions"].get(name or default, name or default)


def _taggable(estate):
    """(region, tags) of every resource the Tagging API should list (DRS is not covered by it)."""
    out = []
    for spec in estate.get("auroraGlobalClusters", []):
        out.append((_region(estate, None, "primary"), spec["primary"]["tags"]))
        out.append((_region(estate, None, "dr"), spec["secondary"]["tags"]))
    for spec in estate.get("auroraClusters", []):
        out.append((_region(estate, spec.get("region"), "primary"), spec["tags"]))
    for cluster in estate.get("ecsClusters", []):
        region = _region(estate, cluster.get("region"), "dr")
        out.append((region, cluster["tags"]))
        out += [(region, service["tags"]) for service in cluster.get("services", [])]
    for function in estate.get("lambdaFunctions", []):
        out.append((_region(estate, function.get("region"), "dr"), function["tags"]))
    for zone in estate.get("route53HostedZones", []):  # Route 53 is listed in us-east-1
        out.append(("us-east-1", zone["tags"]))
        out += [("us-east-1", check["tags"]) for check in zone.get("healthChecks", [])]
    return [(region, {str(k): str(v) for k, v in tags.items()}) for region, tags in out]


def _frozen(tags):
    return tuple(sorted(tags.items()))


@pytest.fixture
def seeded(admin, endpoint):
    return load_estate(endpoint)


def test_the_demo_estate_has_two_customers_two_environments_and_some_invalid_and_disabled_tags():
    estate = _estate()
    tags = [t for _, t in _taggable(estate)] + [s["tags"] for s in estate["drsSourceServers"]]

    assert {t["Customer"] for t in tags} == {"ABCD", "WXYZ"}
    assert {t["Environment"] for t in tags} == {"Production", "Staging"}
    assert 35 <= len(tags) <= 45
    assert sum(t.get("dr:enabled") == "false" for t in tags) >= 3
    assert any(t.get("dr:priority") == "urgent" for t in tags)
    assert any(t.get("dr:recovery-strategy") == "eks-dns" for t in tags)
    assert any(t.get("dr:wave") == "9" for t in tags)
    assert any(t.get("dr:enabled") == "true" and "dr:priority" not in t for t in tags)


def test_loading_the_demo_estate_creates_every_resource_it_describes(seeded):
    estate = _estate()
    expected = {
        "drsSourceServers": len(estate["drsSourceServers"]),
        "auroraGlobalClusters": len(estate["auroraGlobalClusters"]),
        "auroraClusters": 2 * len(estate["auroraGlobalClusters"]) + len(estate["auroraClusters"]),
        "ecsClusters": len(estate["ecsClusters"]),
        "ecsServices": sum(len(c["services"]) for c in estate["ecsClusters"]),
        "lambdaFunctions": len(estate["lambdaFunctions"]),
        "route53HostedZones": len(estate["route53HostedZones"]),
        "route53HealthChecks": sum(len(z["healthChecks"]) for z in estate["route53HostedZones"]),
        "route53RecordSets": sum(len(z["records"]) for z in estate["route53HostedZones"]),
    }

    assert seeded["counts"] == expected
    assert seeded["accountId"] == "123456789012"
    assert all(arn.startswith("arn:aws:") for arns in seeded["arns"].values() for arn in arns)


@pytest.mark.parametrize("customer", ["ABCD", "WXYZ"])
@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_the_tagging_api_finds_each_customers_resources_with_their_tags(seeded, aws_client, customer, region):
    expected = Counter(
        _frozen(t) for r, t in _taggable(_estate()) if r == region and t["Customer"] == customer
    )
    tagging = aws_client("resourcegroupstaggingapi", region=region)

    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": "Customer", "Values": [customer]}]
    )
    found = [m for page in pages for m in page["ResourceTagMappingList"]]

    assert Counter(_frozen({t["Key"]: t["Value"] for t in m["Tags"]}) for m in found) == expected
    seeded_arns = {arn for arns in seeded["arns"].values() for arn in arns}
    assert {m["ResourceARN"] for m in found} <= seeded_arns


def test_route53_zones_and_health_checks_are_in_the_tagging_api_of_us_east_1_only(seeded, aws_client):
    def route53_arns(region):
        tagging = aws_client("resourcegroupstaggingapi", region=region)
        mappings = tagging.get_resources(ResourceTypeFilters=["route53"])["ResourceTagMappingList"]
        return sorted(m["ResourceARN"] for m in mappings)

    assert route53_arns("us-east-1") == sorted(
        seeded["arns"]["route53HostedZones"] + seeded["arns"]["route53HealthChecks"]
    )
    assert route53_arns("us-west-2") == []


def test_drs_describe_source_servers_finds_the_seeded_servers_with_their_tags(seeded, aws_client):
    estate = _estate()
    drs = aws_client("drs", region=_region(estate, None, "dr"))

    servers = [s for page in drs.get_paginator("describe_source_servers").paginate() for s in page["items"]]

    by_host = {s["sourceProperties"]["identificationHints"]["hostname"]: s for s in servers}
    assert {h: s["tags"] for h, s in by_host.items()} == {
        spec["hostname"]: {str(k): str(v) for k, v in spec["tags"].items()}
        for spec in estate["drsSourceServers"]
    }
    assert all(s["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS" for s in servers)
    assert all(
        s["sourceCloudProperties"]["originRegion"] == _region(estate, None, "primary") for s in servers
    )


def test_seeded_servers_marked_to_fail_really_fail_in_a_drill(seeded, aws_client, wait_for):
    estate = _estate()
    failing = {s["hostname"] for s in estate["drsSourceServers"] if s.get("failLaunch")}
    assert failing
    drs = aws_client("drs")
    ids = {r["name"]: r["sourceServerID"] for r in seeded["resources"] if r["kind"] == "drsSourceServers"}

    job = drs.start_recovery(sourceServers=[{"sourceServerID": i} for i in ids.values()], isDrill=True)["job"]

    def completed():
        (current,) = drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
        return current if current["status"] == "COMPLETED" else None

    done = wait_for(completed)

    failed = {s["sourceServerID"] for s in done["participatingServers"] if s["launchStatus"] == "FAILED"}
    assert failed == {ids[h] for h in failing}


def test_the_seeded_global_clusters_have_their_writer_in_the_primary_region(seeded, aws_client):
    estate = _estate()
    rds = aws_client("rds", region="us-east-1")

    clusters = {c["GlobalClusterIdentifier"]: c for c in rds.describe_global_clusters()["GlobalClusters"]}

    assert set(clusters) == {spec["identifier"] for spec in estate["auroraGlobalClusters"]}
    for spec in estate["auroraGlobalClusters"]:
        writers = [
            m["DBClusterArn"] for m in clusters[spec["identifier"]]["GlobalClusterMembers"] if m["IsWriter"]
        ]
        assert len(writers) == 1 and writers[0].endswith(f":cluster:{spec['primary']['identifier']}")


def test_the_seeded_ecs_services_wait_at_zero_with_their_dr_desired_count(seeded, aws_client):
    estate = _estate()
    for cluster in estate["ecsClusters"]:
        ecs = aws_client("ecs", region=_region(estate, cluster.get("region"), "dr"))
        names = [s["name"] for s in cluster["services"]]

        services = ecs.describe_services(cluster=cluster["name"], services=names, include=["TAGS"])[
            "services"
        ]

        assert [s["desiredCount"] for s in services] == [0] * len(names)
        wanted = [s["tags"]["dr:desired-count"] for s in cluster["services"]]
        assert [{t["key"]: t["value"] for t in s["tags"]}["dr:desired-count"] for s in services] == wanted


def test_the_seeded_lambda_functions_are_held_at_zero_concurrency(seeded, aws_client):
    estate = _estate()
    for function in estate["lambdaFunctions"]:
        lam = aws_client("lambda", region=_region(estate, function.get("region"), "dr"))

        concurrency = lam.get_function_concurrency(FunctionName=function["name"])

        assert concurrency["ReservedConcurrentExecutions"] == 0
        assert lam.get_function(FunctionName=function["name"])["Configuration"]["State"] == "Active"


def test_a_custom_estate_file_can_be_loaded_after_a_reset(admin, endpoint, aws_client, tmp_path: Path):
    estate = tmp_path / "tiny.yaml"
    estate.write_text(
        "regions: {primary: eu-west-1, dr: eu-central-1}\n"
        "drsSourceServers:\n"
        "  - {hostname: tiny-01, tags: {Customer: TINY}}\n"
        "lambdaFunctions:\n"
        "  - {name: tiny-fn, region: primary, reservedConcurrency: null, tags: {Customer: TINY}}\n",
        encoding="utf-8",
    )
    load_estate(endpoint)

    summary = load_estate(endpoint, estate, reset=True)

    assert summary["counts"]["drsSourceServers"] == 1 and summary["counts"]["lambdaFunctions"] == 1
    assert summary["arns"]["lambdaFunctions"] == ["arn:aws:lambda:eu-west-1:123456789012:function:tiny-fn"]
    assert len(aws_client("drs", region="eu-central-1").describe_source_servers()["items"]) == 1
    assert aws_client("drs", region="us-west-2").describe_source_servers()["items"] == []
