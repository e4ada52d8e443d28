"""The preflight probe's checks of Lambda, Route 53, ECS and Aurora resources, with real boto3 calls to the
local AWS: what is missing is an error naming it; an Aurora secondary's lag comes from CloudWatch."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from support import DR, PRIMARY, STATIC, lambda_zip

from shared.aws.preflight import PreflightProbe, Target
from shared.aws.sessions import SessionFactory

MAX_LAG = 900


@pytest.fixture
def probe(ready_endpoint: str, localaws) -> PreflightProbe:
    sessions = SessionFactory(default_region=DR, endpoint_url=ready_endpoint, base_session_kwargs=STATIC)
    return PreflightProbe(sessions, max_replication_lag=MAX_LAG)


def check_of(probe: PreflightProbe, arn: str, adapter: str, region: str = DR, **tags: str):
    (check,) = probe.checks([Target(arn, adapter, 1, region, tags=tags)])
    return check.status.value, check.name, check.message


@pytest.fixture
def function(aws) -> str:
    """Function ``orders`` in the DR Region with version 1 and alias ``live`` → 1."""
    role = aws("iam").create_role(
        RoleName=f"fn-{uuid.uuid4().hex[:6]}",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
                ]
            }
        ),
    )["Role"]["Arn"]
    lam = aws("lambda")
    code = {"ZipFile": lambda_zip("{}")}
    arn = lam.create_function(
        FunctionName="orders", Runtime="python3.12", Role=role, Handler="index.handler", Code=code
    )["FunctionArn"]
    version = lam.publish_version(FunctionName="orders")["Version"]
    lam.create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
    return arn


def test_a_lambda_alias_or_version_named_by_tags_that_does_not_exist_is_an_error(probe, function):
    tagged = {"dr:alias": "live", "dr:alias-version": "1"}

    assert check_of(probe, function, "lambda", **tagged) == (
        "ok",
        "lambda.function",
        "function, alias live, version 1 exist",
    )
    status, name, message = check_of(probe, function, "lambda", **{"dr:alias": "standby"})
    assert (status, name) == ("error", "lambda.function") and message.startswith("missing: alias standby")
    status, _, message = check_of(probe, function, "lambda", **{"dr:alias": "live", "dr:alias-version": "7"})
    assert status == "error" and message.startswith("missing: version 7")


@pytest.fixture
def zone(aws) -> str:
    """Zone example.com with the record app.example.com CNAME and nothing else."""
    r53 = aws("route53", PRIMARY)
    zone_id = r53.create_hosted_zone(Name="example.com", CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"]
    zone_id = zone_id.rsplit("/", 1)[-1]
    record = {"Name": "app.example.com", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "app.dr.example"}]}
    r53.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}
    )
    return zone_id


def test_a_route53_record_or_health_check_that_does_not_exist_is_an_error(probe, zone):
    records = f"arn:aws:route53:::hostedzone/{zone}/recordset"

    assert check_of(probe, f"{records}/app.example.com/CNAME", "route53")[0] == "ok"
    assert check_of(probe, f"{records}/api.example.com/CNAME", "route53") == (
        "error",
        "route53.record",
        f"record api.example.com CNAME does not exist in zone {zone}",
    )
    assert check_of(probe, f"{records}/app.example.com/A", "route53")[:2] == ("error", "route53.record")
    status, name, message = check_of(probe, "arn:aws:route53:::hostedzone/ZNOSUCHZONE", "route53")
    assert (status, name) == ("error", "route53.record") and "ZNOSUCHZONE does not exist" in message
    status, name, _ = check_of(probe, f"arn:aws:route53:::healthcheck/{uuid.uuid4()}", "route53")
    assert (status, name) == ("error", "route53.healthCheck")


def test_an_ecs_dr_service_or_cluster_that_does_not_exist_is_an_error(probe, aws):
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="shop-dr")
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 64}])
    ecs.create_service(cluster="shop-dr", serviceName="web", taskDefinition="web", desiredCount=0)
    service = f"arn:aws:ecs:{DR}:123456789012:service/shop-dr/"

    assert check_of(probe, service + "web", "ecs") == ("ok", "ecs.service", "service web exists in cluster shop-dr")
    assert check_of(probe, service + "api", "ecs") == (
        "error",
        "ecs.service",
        "ECS service api does not exist in cluster shop-dr",
    )
    gone = f"arn:aws:ecs:{DR}:123456789012:service/shop-gone/web"
    assert check_of(probe, gone, "ecs") == ("error", "ecs.service", "ECS cluster shop-gone does not exist")


@pytest.fixture
def secondary(aws) -> str:
    """Global cluster ``orders``: writer in the primary Region, secondary ``orders-usw2`` in DR; its ARN."""
    aws("rds", PRIMARY).create_global_cluster(GlobalClusterIdentifier="orders", Engine="aurora-postgresql")
    aws("rds", PRIMARY).create_db_cluster(
        DBClusterIdentifier="orders-use1",
        Engine="aurora-postgresql",
        GlobalClusterIdentifier="orders",
        MasterUsername="drwave",
        MasterUserPassword="localaws-password",
    )
    return aws("rds").create_db_cluster(
        DBClusterIdentifier="orders-usw2", Engine="aurora-postgresql", GlobalClusterIdentifier="orders"
    )["DBCluster"]["DBClusterArn"]


def lag_checks(probe: PreflightProbe, arn: str) -> list[tuple[str, str, str]]:
    return [(c.status.value, c.name, c.message) for c in probe.checks([Target(arn, "aurora", 1, DR)])]


def report_lag(aws, cluster: str, milliseconds: float) -> None:
    aws("cloudwatch").put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "AuroraGlobalDBReplicationLag",
                "Dimensions": [{"Name": "DBClusterIdentifier", "Value": cluster}],
                "Timestamp": datetime.now(UTC),
                "Value": milliseconds,
                "Unit": "Milliseconds",
            }
        ],
    )


def test_an_aurora_secondary_without_lag_datapoints_says_the_lag_is_not_available(probe, secondary):
    member, lag = lag_checks(probe, secondary)

    assert member[:2] == ("ok", "aurora.globalCluster")
    assert lag == (
        "ok",
        "aurora.replicationLag",
        "secondary orders-usw2: replication lag not available (no AuroraGlobalDBReplicationLag datapoints in "
        "the last 5 min)",
    )


def test_an_aurora_secondary_lagging_over_the_limit_is_a_warning_and_within_it_is_ok(probe, aws, secondary):
    report_lag(aws, "orders-usw2", 1500)
    (_, within) = lag_checks(probe, secondary)
    assert within == ("ok", "aurora.replicationLag", "secondary orders-usw2: replication lag 1.5 s")

    report_lag(aws, "orders-usw2", (MAX_LAG + 60) * 1000)
    (_, over) = lag_checks(probe, secondary)
    assert over[:2] == ("warning", "aurora.replicationLag")
    assert f"replication lag {MAX_LAG + 60:.1f} s is over {MAX_LAG} s" in over[2]
