"""Aurora global database switchover and failover on top of moto's RDS."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

PRIMARY, DR = "us-east-1", "us-west-2"


@pytest.fixture
def global_cluster(aws_client):
    """A global cluster: writer ``orders-use1`` in us-east-1, secondary ``orders-usw2`` in us-west-2."""
    rds_primary, rds_dr = aws_client("rds", region=PRIMARY), aws_client("rds", region=DR)
    rds_primary.create_global_cluster(GlobalClusterIdentifier="orders", Engine="aurora-postgresql")
    primary = rds_primary.create_db_cluster(
        DBClusterIdentifier="orders-use1",
        Engine="aurora-postgresql",
        GlobalClusterIdentifier="orders",
        MasterUsername="drwave",
        MasterUserPassword="localaws-password",
    )["DBCluster"]
    secondary = rds_dr.create_db_cluster(
        DBClusterIdentifier="orders-usw2", Engine="aurora-postgresql", GlobalClusterIdentifier="orders"
    )["DBCluster"]
    return {"primary": primary["DBClusterArn"], "secondary": secondary["DBClusterArn"]}


def _describe(rds):
    (cluster,) = rds.describe_global_clusters(GlobalClusterIdentifier="orders")["GlobalClusters"]
    return cluster


def _writers(cluster):
    return [m["DBClusterArn"] for m in cluster["GlobalClusterMembers"] if m["IsWriter"]]


def _settled(rds):
    cluster = _describe(rds)
    return cluster if "FailoverState" not in cluster else None


def test_switchover_makes_the_secondary_the_writer_after_a_pending_phase(
    admin, aws_client, global_cluster, wait_for
):
    admin.post("config", {"globalClusterStepSeconds": 0.5})
    rds = aws_client("rds", region=DR)
    assert _writers(_describe(rds)) == [global_cluster["primary"]]

    answer = rds.switchover_global_cluster(
        GlobalClusterIdentifier="orders", TargetDbClusterIdentifier=global_cluster["secondary"]
    )["GlobalCluster"]

    assert answer["FailoverState"]["Status"] == "pending"
    assert answer["FailoverState"]["FromDbClusterArn"] == global_cluster["primary"]
    assert answer["FailoverState"]["ToDbClusterArn"] == global_cluster["secondary"]
    assert answer["FailoverState"]["IsDataLossAllowed"] is False
    assert _writers(_describe(rds)) == [global_cluster["primary"]]
    done = wait_for(lambda: _settled(rds))
    assert _writers(done) == [global_cluster["secondary"]]
    members = {m["DBClusterArn"]: m for m in done["GlobalClusterMembers"]}
    assert members[global_cluster["primary"]]["IsWriter"] is False
    assert done["Status"] == "available"


def test_failover_with_data_loss_makes_the_target_the_writer(admin, aws_client, global_cluster, wait_for):
    rds = aws_client("rds", region=DR)

    answer = rds.failover_global_cluster(
        GlobalClusterIdentifier="orders",
        TargetDbClusterIdentifier=global_cluster["secondary"],
        AllowDataLoss=True,
    )["GlobalCluster"]

    assert answer["FailoverState"]["IsDataLossAllowed"] is True
    assert answer["Status"] == "failing-over"
    done = wait_for(lambda: _settled(rds))
    assert _writers(done) == [global_cluster["secondary"]]


def test_a_second_switchover_while_one_is_in_progress_is_refused(admin, aws_client, global_cluster):
    admin.post("config", {"globalClusterStepSeconds": 5})
    rds = aws_client("rds", region=DR)
    rds.switchover_global_cluster(
        GlobalClusterIdentifier="orders", TargetDbClusterIdentifier=global_cluster["secondary"]
    )

    with pytest.raises(ClientError) as caught:
        rds.failover_global_cluster(
            GlobalClusterIdentifier="orders",
            TargetDbClusterIdentifier=global_cluster["secondary"],
            AllowDataLoss=True,
        )

    assert caught.value.response["Error"]["Code"] == "InvalidGlobalClusterStateFault"


def test_switching_over_to_the_current_writer_is_refused_as_an_invalid_parameter(
    admin, aws_client, global_cluster
):
    rds = aws_client("rds", region=PRIMARY)

    with pytest.raises(ClientError) as caught:
        rds.switchover_global_cluster(
            GlobalClusterIdentifier="orders", TargetDbClusterIdentifier="orders-use1"
        )

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"


@pytest.mark.parametrize(
    ("global_id", "target", "code", "status"),
    [
        ("no-such-global", "orders-usw2", "GlobalClusterNotFoundFault", 404),
        ("orders", "arn:aws:rds:us-west-2:123456789012:cluster:nope", "DBClusterNotFoundFault", 404),
    ],
)
def test_unknown_clusters_are_reported_with_the_rds_fault_codes(
    admin, aws_client, global_cluster, global_id, target, code, status
):
    rds = aws_client("rds", region=DR)

    with pytest.raises(ClientError) as caught:
        rds.switchover_global_cluster(GlobalClusterIdentifier=global_id, TargetDbClusterIdentifier=target)

    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_describe_global_clusters_filters_by_identifier(admin, aws_client, global_cluster):
    rds = aws_client("rds", region=PRIMARY)
    rds.create_global_cluster(GlobalClusterIdentifier="ledger", Engine="aurora-mysql")

    assert [c["GlobalClusterIdentifier"] for c in rds.describe_global_clusters()["GlobalClusters"]] == [
        "orders",
        "ledger",
    ]
    assert _describe(rds)["GlobalClusterIdentifier"] == "orders"
    with pytest.raises(ClientError) as caught:
        rds.describe_global_clusters(GlobalClusterIdentifier="nope")
    assert caught.value.response["Error"]["Code"] == "GlobalClusterNotFoundFault"


def test_a_global_cluster_created_from_an_existing_cluster_has_that_cluster_as_writer(admin, aws_client):
    rds = aws_client("rds", region=PRIMARY)
    source = rds.create_db_cluster(
        DBClusterIdentifier="billing-use1",
        Engine="aurora-postgresql",
        MasterUsername="drwave",
        MasterUserPassword="localaws-password",
    )["DBCluster"]

    rds.create_global_cluster(
        GlobalClusterIdentifier="billing", SourceDBClusterIdentifier=source["DBClusterArn"]
    )

    (cluster,) = rds.describe_global_clusters(GlobalClusterIdentifier="billing")["GlobalClusters"]
    assert _writers(cluster) == [source["DBClusterArn"]]


PRIMARY_OUTAGE = {"service": "rds", "operation": "*", "region": PRIMARY, "outage": True}


def test_a_switchover_needs_the_primary_and_answers_503_while_its_region_is_out(admin, aws_client, global_cluster):
    admin.post("faults", PRIMARY_OUTAGE)
    rds = aws_client("rds", region=DR)

    with pytest.raises(ClientError) as caught:
        rds.switchover_global_cluster(
            GlobalClusterIdentifier="orders", TargetDbClusterIdentifier=global_cluster["secondary"]
        )

    assert caught.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert _writers(_describe(rds)) == [global_cluster["primary"]]
    assert "FailoverState" not in _describe(rds)


def test_a_failover_with_data_loss_sent_to_the_secondary_region_succeeds_while_the_primary_is_out(
    admin, aws_client, global_cluster, wait_for
):
    admin.post("faults", PRIMARY_OUTAGE)
    rds = aws_client("rds", region=DR)

    rds.failover_global_cluster(
        GlobalClusterIdentifier="orders", TargetDbClusterIdentifier=global_cluster["secondary"], AllowDataLoss=True
    )

    assert _writers(wait_for(lambda: _settled(rds))) == [global_cluster["secondary"]]
