"""The Aurora adapter on the local AWS: a global database's writer moved to the DR region and back."""

from __future__ import annotations

import pytest
from aurora_support import DR, PRIMARY, writer

from services.workers.adapters.base import Outcome

OK, KO = Outcome.SUCCEEDED, Outcome.FAILED


def test_a_drill_switches_the_writer_over_to_the_dr_cluster_without_data_loss(adapters, localaws, aws, orders, phase):
    done = phase(adapters["aurora"], orders["secondary"], mode="drill")

    assert done.outcome is OK
    assert writer(aws) == orders["secondary"]
    assert done.detail["operation"] == "switchover"
    assert done.detail["previousWriterArn"] == orders["primary"]
    assert localaws.calls().get("rds:SwitchoverGlobalCluster") == 1
    assert "rds:FailoverGlobalCluster" not in localaws.calls()


def test_an_ungraceful_recovery_fails_over_to_the_dr_cluster_allowing_data_loss(
    adapters, localaws, aws, orders, phase
):
    done = phase(adapters["aurora"], orders["secondary"], mode="recovery", failover="ungraceful")

    assert done.outcome is OK
    assert writer(aws) == orders["secondary"]
    assert done.detail["operation"] == "failover"
    assert done.started.decision == "failover with data loss chosen (failover 'ungraceful')"
    assert localaws.calls().get("rds:FailoverGlobalCluster") == 1
    assert "rds:SwitchoverGlobalCluster" not in localaws.calls()


@pytest.mark.parametrize("failover", ["auto", "graceful"])
def test_a_recovery_whose_primary_answers_switches_over_without_data_loss(
    adapters, localaws, aws, orders, phase, failover
):
    done = phase(adapters["aurora"], orders["secondary"], mode="recovery", failover=failover)

    assert done.outcome is OK and writer(aws) == orders["secondary"]
    assert (done.detail["operation"], done.detail["failover"]) == ("switchover", failover)
    assert done.started.decision == f"switchover chosen (failover '{failover}'): no data loss"
    assert localaws.calls().get("rds:SwitchoverGlobalCluster") == 1
    assert "rds:FailoverGlobalCluster" not in localaws.calls()


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

    assert recovery.detail["operation"] == "switchover"
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


# --- the primary Region out (issue 12: graceful, then ungraceful) -------------------------------------

PRIMARY_OUTAGE = {"service": "rds", "operation": "*", "region": PRIMARY, "outage": True}


def test_a_graceful_recovery_fails_clearly_when_the_primary_region_does_not_answer(
    adapters, localaws, aws, orders, phase
):
    localaws.post("faults", PRIMARY_OUTAGE)

    done = phase(adapters["aurora"], orders["secondary"], mode="recovery", failover="graceful")

    assert done.outcome is KO
    assert done.error.startswith(f"primary Region {PRIMARY} unreachable for {orders['secondary']}: a graceful failover")
    assert "ServiceUnavailable" in done.error
    assert done.start_error.code is None
    assert writer(aws) == orders["primary"]
    assert not {"rds:SwitchoverGlobalCluster", "rds:FailoverGlobalCluster"} & set(localaws.calls())


def test_an_auto_recovery_without_allow_data_loss_stops_before_failing_over_and_says_why(
    adapters, localaws, aws, orders, phase
):
    localaws.post("faults", PRIMARY_OUTAGE)

    done = phase(adapters["aurora"], orders["secondary"], mode="recovery")

    assert done.outcome is KO
    reason = f"primary Region {PRIMARY} unreachable for {orders['secondary']}: approve data loss to fail over"
    assert done.error == reason
    assert done.start_error.code == "DATA_LOSS_APPROVAL_REQUIRED"
    assert writer(aws) == orders["primary"]
    assert "rds:FailoverGlobalCluster" not in localaws.calls()


def test_an_auto_recovery_with_allow_data_loss_fails_over_around_the_unreachable_primary(
    adapters, localaws, aws, orders, phase
):
    localaws.post("faults", PRIMARY_OUTAGE)

    done = phase(adapters["aurora"], orders["secondary"], mode="recovery", allow_data_loss=True)

    assert done.outcome is OK and writer(aws) == orders["secondary"]
    assert done.detail["operation"] == "failover" and done.detail["previousWriterArn"] == orders["primary"]
    assert done.started.decision == (
        f"primary Region {PRIMARY} unreachable for {orders['secondary']}: failing over with data loss (allowDataLoss)"
    )
    assert localaws.calls()["rds:FailoverGlobalCluster"] == 1
    activated = phase(adapters["aurora"], orders["secondary"], "activate", mode="recovery")
    assert activated.outcome is OK  # read in the DR Region while the primary is still out


def test_an_ungraceful_recovery_goes_through_while_the_primary_region_is_out(adapters, localaws, aws, orders, phase):
    localaws.post("faults", PRIMARY_OUTAGE)

    done = phase(adapters["aurora"], orders["secondary"], mode="recovery", failover="ungraceful")

    assert done.outcome is OK and writer(aws) == orders["secondary"]


def test_a_drill_never_fails_over_even_when_the_primary_region_is_out(adapters, localaws, aws, orders, phase):
    localaws.post("faults", PRIMARY_OUTAGE)

    done = phase(adapters["aurora"], orders["secondary"], mode="drill", failover="auto", allow_data_loss=True)

    assert done.outcome is KO and "a drill switches over" in done.error
    assert writer(aws) == orders["primary"]
    assert "rds:FailoverGlobalCluster" not in localaws.calls()
