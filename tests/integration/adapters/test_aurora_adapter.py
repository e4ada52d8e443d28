"""The Aurora adapter on the local AWS: a global database's writer moved to the DR region and back."""

from __future__ import annotations

import pytest

from services.workers.adapters.base import Outcome

PRIMARY, DR = "us-east-1", "us-west-2"
OK, KO = Outcome.SUCCEEDED, Outcome.FAILED


@pytest.fixture
def orders(aws):
    """Global database ``orders``: writer ``orders-use1`` (us-east-1), secondary ``orders-usw2`` (us-west-2)."""
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


def test_a_drill_switches_the_writer_over_to_the_dr_cluster_without_data_loss(adapters, localaws, aws, orders, phase):
    done = phase(adapters["aurora"], orders["secondary"], mode="drill")

    assert done.outcome is OK
    assert writer(aws) == orders["secondary"]
    assert done.detail["operation"] == "switchover"
    assert done.detail["previousWriterArn"] == orders["primary"]
    assert localaws.calls().get("rds:SwitchoverGlobalCluster") == 1
    assert "rds:FailoverGlobalCluster" not in localaws.calls()


def test_a_recovery_fails_over_to_the_dr_cluster_allowing_data_loss(adapters, localaws, aws, orders, phase):
    done = phase(adapters["aurora"], orders["secondary"], mode="recovery")

    assert done.outcome is OK
    assert writer(aws) == orders["secondary"]
    assert done.detail["operation"] == "failover"
    assert localaws.calls().get("rds:FailoverGlobalCluster") == 1


def test_a_global_cluster_arn_fails_over_to_its_one_secondary(adapters, aws, orders, phase):
    (cluster,) = aws("rds", DR).describe_global_clusters(GlobalClusterIdentifier="orders")["GlobalClusters"]

    done = phase(adapters["aurora"], cluster["GlobalClusterArn"], mode="recovery")

    assert done.outcome is OK and writer(aws) == orders["secondary"]


def test_a_cluster_outside_any_global_database_fails_with_the_reason(adapters, aws, phase):
    arn = aws("rds", DR).create_db_cluster(
        DBClusterIdentifier="lonely",
        Engine="aurora-postgresql",
        MasterUsername="drwave",
        MasterUserPassword="localaws-password",
    )["DBCluster"]["DBClusterArn"]

    done = phase(adapters["aurora"], arn)

    assert done.outcome is KO and "not a member of a global database" in done.error


def test_a_redelivered_start_finds_the_switchover_in_progress_and_starts_no_other(
    adapters, localaws, aws, orders, phase
):
    localaws.post("config", {"globalClusterStepSeconds": 1})
    first = adapters["aurora"].instantiate(_ctx(orders["secondary"]))

    again = phase(adapters["aurora"], orders["secondary"])

    assert again.outcome is OK and again.started.operation_id == first.operation_id
    assert again.detail["previousWriterArn"] == orders["primary"]
    assert localaws.calls()["rds:SwitchoverGlobalCluster"] == 1


def test_throttling_half_of_all_calls_fails_no_switchover(adapters, localaws, aws, orders, phase):
    localaws.throttle(0.5)

    done = phase(adapters["aurora"], orders["secondary"])

    assert done.outcome is OK
    assert sum(localaws.throttled().values()) > 0
    localaws.clear_faults()
    assert writer(aws) == orders["secondary"]


def test_activate_waits_for_the_dr_writer_and_refuses_a_cluster_that_is_not_the_writer(adapters, orders, phase):
    assert phase(adapters["aurora"], orders["secondary"], "activate").outcome is KO

    phase(adapters["aurora"], orders["secondary"])
    done = phase(adapters["aurora"], orders["secondary"], "activate")

    assert done.outcome is OK and done.detail["clusterStatus"] == "available"


def test_cleanup_after_a_drill_switches_the_writer_back(adapters, aws, orders, phase):
    drill = phase(adapters["aurora"], orders["secondary"], mode="drill")

    done = phase(adapters["aurora"], orders["secondary"], "cleanup", source=drill.detail)

    assert done.outcome is OK
    assert writer(aws) == orders["primary"]


def test_cleanup_after_a_recovery_keeps_the_dr_writer(adapters, aws, orders, phase):
    recovery = phase(adapters["aurora"], orders["secondary"], mode="recovery")

    done = phase(adapters["aurora"], orders["secondary"], "cleanup", mode="recovery", source=recovery.detail)

    assert done.outcome is OK and "kept" in done.detail["note"]
    assert writer(aws) == orders["secondary"]


def test_replicate_finds_the_old_writer_replicating_as_a_secondary_and_does_nothing_in_a_drill(adapters, orders, phase):
    recovery = phase(adapters["aurora"], orders["secondary"], mode="recovery")

    done = phase(adapters["aurora"], orders["secondary"], "replicate", mode="recovery", source=recovery.detail)
    drill = phase(adapters["aurora"], orders["secondary"], "replicate", mode="drill", source=recovery.detail)

    assert done.outcome is OK and orders["primary"] in done.detail["note"]
    assert drill.outcome is OK and drill.detail["applied"] is False


def _ctx(arn):
    from services.workers.adapters.base import ResourceContext

    return ResourceContext(
        resource_run_id=999, execution_id="ex-test", arn=arn, mode="drill", phase="instantiate", wave_number=1
    )
