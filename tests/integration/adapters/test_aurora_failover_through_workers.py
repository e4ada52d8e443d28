"""Graceful, then ungraceful, through the workers: a recovery of an Aurora global database while its
primary Region is out (an outage rule on the local AWS), with the real aurora adapter."""

from __future__ import annotations

import pytest

PRIMARY, DR = "us-east-1", "us-west-2"
PRIMARY_OUTAGE = {"service": "rds", "operation": "*", "region": PRIMARY, "outage": True}


@pytest.fixture
def orders(aws):
    """Global database ``orders``: writer in us-east-1, secondary ``orders-usw2`` in us-west-2 (the resource)."""
    aws("rds", PRIMARY).create_global_cluster(GlobalClusterIdentifier="orders", Engine="aurora-postgresql")
    primary = aws("rds", PRIMARY).create_db_cluster(
        DBClusterIdentifier="orders-use1",
        Engine="aurora-postgresql",
        GlobalClusterIdentifier="orders",
        MasterUsername="drwave",
        MasterUserPassword="localaws-password",
    )["DBCluster"]["DBClusterArn"]
    secondary = aws("rds", DR).create_db_cluster(
        DBClusterIdentifier="orders-usw2", Engine="aurora-postgresql", GlobalClusterIdentifier="orders"
    )["DBCluster"]["DBClusterArn"]
    return {"primary": primary, "secondary": secondary}


def writer(aws) -> str:
    (cluster,) = aws("rds", DR).describe_global_clusters(GlobalClusterIdentifier="orders")["GlobalClusters"]
    return next(m["DBClusterArn"] for m in cluster["GlobalClusterMembers"] if m["IsWriter"])


def messages(api, execution_id: str) -> list[str]:
    return [e["message"] for e in api.get(f"/v1/executions/{execution_id}/events")["items"]]


def test_an_auto_recovery_with_allow_data_loss_fails_over_while_the_primary_region_is_out(
    api, localaws, aws, orders, runs_of
):
    localaws.post("faults", PRIMARY_OUTAGE)
    plan = api.plan([{"name": "Data", "arns": [orders["secondary"]]}])

    execution = api.wait(api.start(plan, mode="recovery", allowDataLoss=True))

    assert execution["status"] == "COMPLETED", runs_of(execution)
    assert (execution["failover"], execution["allowDataLoss"]) == ("auto", True)
    assert writer(aws) == orders["secondary"]
    run = runs_of(execution)[orders["secondary"]]
    assert run["detail"]["operation"] == "failover"
    decision = f"primary Region {PRIMARY} unreachable for {orders['secondary']}: failing over with data loss"
    assert f"{orders['secondary']}: {decision} (allowDataLoss)" in messages(api, execution["id"])


def test_a_graceful_recovery_fails_the_cluster_while_the_primary_region_is_out(api, localaws, aws, orders, runs_of):
    localaws.post("faults", PRIMARY_OUTAGE)
    plan = api.plan([{"name": "Data", "arns": [orders["secondary"]]}])

    execution = api.wait(api.start(plan, mode="recovery", failover="graceful"))

    assert execution["status"] == "COMPLETED_WITH_FAILURES", runs_of(execution)
    run = runs_of(execution)[orders["secondary"]]
    assert run["status"] == "FAILED" and run["errorCode"] is None
    assert run["error"].startswith(f"primary Region {PRIMARY} unreachable for {orders['secondary']}: a graceful")
    assert writer(aws) == orders["primary"]
