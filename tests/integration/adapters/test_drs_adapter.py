"""The DRS adapter on the local AWS: launch batches, one job each, shared look-ups, every phase."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from support import PATIENCE

from services.workers.adapters.base import BatchContext, Outcome, Progress, ResourceContext

ACCOUNT, DR = "123456789012", "us-west-2"
OK, KO = Outcome.SUCCEEDED, Outcome.FAILED


def batch_of(servers, phase="instantiate", mode="drill", attempt=1, sources=None, batch_id=1) -> BatchContext:
    members = tuple(
        ResourceContext(
            resource_run_id=n,
            execution_id="ex-1",
            arn=server["arn"],
            mode=mode,
            phase=phase,
            wave_number=1,
            source_detail=(sources or {}).get(server["arn"], {}),
        )
        for n, server in enumerate(servers, start=1)
    )
    return BatchContext(batch_id, "ex-1", mode, phase, ACCOUNT, DR, attempt=attempt, members=members)


def settle(drs, batch, started, timeout=PATIENCE) -> dict[str, Progress]:
    """Poll the batch's shared look-up until every member has an outcome; outcomes by ARN."""
    polled = replace(batch, operation_id=started.operation_id, detail=started.detail, members=())
    deadline = time.monotonic() + timeout
    while True:
        view = drs.describe_batch(polled)
        outcomes = {}
        for member in batch.members:
            at_start = started.members[member.resource_run_id]
            if at_start.finished:
                outcomes[member.arn] = at_start
                continue
            ctx = replace(member, detail={**member.detail, **at_start.detail})
            progress = drs.member_status(view, ctx)
            outcomes[member.arn] = replace(progress, detail={**at_start.detail, **progress.detail})
        if all(p.finished for p in outcomes.values()):
            return outcomes
        assert time.monotonic() < deadline, f"batch still running: {outcomes}"
        time.sleep(0.1)


def launched(adapters, localaws, servers, mode="drill"):
    batch = batch_of(servers, mode=mode)
    started = adapters["drs"].start_batch(batch)
    return settle(adapters["drs"], batch, started)


def test_a_batch_of_servers_is_launched_by_one_recovery_job_and_each_server_gets_its_instance(adapters, localaws, aws):
    servers = localaws.source_servers(*({"hostname": f"app-{n:02}"} for n in range(5)))
    batch = batch_of(servers)

    started = adapters["drs"].start_batch(batch)
    outcomes = settle(adapters["drs"], batch, started)

    assert localaws.calls()["drs:StartRecovery"] == 1
    assert {p.outcome for p in outcomes.values()} == {OK}
    instances = {
        i["sourceServerID"]: i["recoveryInstanceID"] for i in aws("drs").describe_recovery_instances()["items"]
    }
    assert {arn: p.detail["recoveryInstanceID"] for arn, p in outcomes.items()} == {
        s["arn"]: instances[s["sourceServerID"]] for s in servers
    }
    (job,) = aws("drs").describe_jobs()["items"]
    assert job["jobID"] == started.operation_id
    assert job["tags"] == {"drwave:batch": "ex-1/1", "drwave:execution": "ex-1"}


def test_one_status_look_up_serves_every_server_of_the_batch(adapters, localaws):
    servers = localaws.source_servers(*({"hostname": f"web-{n:02}"} for n in range(20)))
    batch = batch_of(servers)
    started = adapters["drs"].start_batch(batch)
    before = localaws.calls().get("drs:DescribeJobs", 0)

    view = adapters["drs"].describe_batch(replace(batch, operation_id=started.operation_id, members=()))
    progress = [
        adapters["drs"].member_status(view, replace(m, detail=started.members[m.resource_run_id].detail))
        for m in batch.members
    ]

    assert localaws.calls()["drs:DescribeJobs"] - before == 1
    assert len(progress) == 20 and all(not p.finished for p in progress)


def test_a_server_that_fails_to_launch_fails_alone_with_the_reason_from_the_job_log(adapters, localaws):
    good, bad = localaws.source_servers({"hostname": "good"}, {"hostname": "bad", "failLaunch": True})

    outcomes = launched(adapters, localaws, [good, bad])

    assert outcomes[good["arn"]].outcome is OK
    assert outcomes[bad["arn"]].outcome is KO
    assert "launch FAILED in DRS job" in outcomes[bad["arn"]].error
    assert "launch failure injected" in outcomes[bad["arn"]].error


def test_a_server_drs_leaves_out_of_the_job_fails_with_the_reason(adapters, localaws):
    ready, stalled = localaws.source_servers(
        {"hostname": "ready"}, {"hostname": "stalled", "replicationState": "STALLED"}
    )

    outcomes = launched(adapters, localaws, [ready, stalled])

    assert outcomes[ready["arn"]].outcome is OK
    assert outcomes[stalled["arn"]].outcome is KO
    assert "left source server" in outcomes[stalled["arn"]].error


def test_a_re_claimed_start_adopts_the_job_the_first_claim_started_instead_of_starting_another(adapters, localaws, aws):
    localaws.post("config", {"drsJobStepSeconds": 5})
    servers = localaws.source_servers({"hostname": "db-01"}, {"hostname": "db-02"})
    first = adapters["drs"].start_batch(batch_of(servers))

    again = adapters["drs"].start_batch(batch_of(servers, attempt=2))
    redelivered = adapters["drs"].start_batch(batch_of(servers, attempt=1))  # hits DRS's ConflictException

    assert again.operation_id == first.operation_id == redelivered.operation_id
    assert again.detail["adopted"] and redelivered.detail["adopted"]
    assert len(aws("drs").describe_jobs()["items"]) == 1
    assert localaws.calls()["drs:StartRecovery"] == 2  # the first, and the one DRS refused


def test_a_server_held_by_a_job_of_someone_else_fails_and_the_rest_of_the_batch_starts(adapters, localaws, aws):
    localaws.post("config", {"drsJobStepSeconds": 5})
    held, free_1, free_2 = localaws.source_servers({"hostname": "held"}, {"hostname": "free-1"}, {"hostname": "free-2"})
    foreign = aws("drs").start_recovery(sourceServers=[{"sourceServerID": held["sourceServerID"]}])["job"]["jobID"]

    started = adapters["drs"].start_batch(batch_of([held, free_1, free_2]))

    conflict = started.members[1]
    assert conflict.outcome is KO and foreign in conflict.error
    assert started.operation_id != foreign
    (job,) = [j for j in aws("drs").describe_jobs()["items"] if j["jobID"] == started.operation_id]
    assert {s["sourceServerID"] for s in job["participatingServers"]} == {
        free_1["sourceServerID"],
        free_2["sourceServerID"],
    }


def test_throttling_half_of_all_calls_fails_no_server(adapters, localaws):
    servers = localaws.source_servers(
        *({"hostname": f"svc-{n:02}"} for n in range(10)), {"hostname": "x", "failLaunch": True}
    )
    localaws.throttle(0.5)

    outcomes = launched(adapters, localaws, servers[:10])

    assert {p.outcome for p in outcomes.values()} == {OK}
    assert localaws.throttled().get("drs:StartRecovery", 0) + localaws.throttled().get("drs:DescribeJobs", 0) > 0


@pytest.mark.parametrize(("mode", "is_drill"), [("drill", True), ("recovery", False)])
def test_a_drill_launches_drill_instances_and_a_recovery_launches_recovery_instances(
    adapters, localaws, aws, mode, is_drill
):
    servers = localaws.source_servers({"hostname": "db-01"})

    launched(adapters, localaws, servers, mode=mode)

    (job,) = aws("drs").describe_jobs()["items"]
    assert job["initiatedBy"] == ("START_DRILL" if is_drill else "START_RECOVERY")
    assert [i["isDrill"] for i in aws("drs").describe_recovery_instances()["items"]] == [is_drill]


def test_activate_succeeds_for_running_recovery_instances_and_fails_without_one(adapters, localaws):
    up, never = localaws.source_servers({"hostname": "up"}, {"hostname": "never"})
    sources = {arn: p.detail for arn, p in launched(adapters, localaws, [up]).items()}
    batch = batch_of([up, never], phase="activate", sources=sources)

    outcomes = settle(adapters["drs"], batch, adapters["drs"].start_batch(batch))

    assert outcomes[up["arn"]].outcome is OK
    assert outcomes[up["arn"]].detail["ec2InstanceState"] == "RUNNING"
    assert outcomes[never["arn"]].outcome is KO and "no recovery instance" in outcomes[never["arn"]].error
    assert localaws.calls()["drs:StartRecovery"] == 1  # activate starts nothing: it watches the instances


def test_cleanup_terminates_the_drill_instances_with_one_job_and_keeps_a_recoverys(adapters, localaws, aws):
    drilled = localaws.source_servers(*({"hostname": f"drill-{n}"} for n in range(3)))
    recovered = localaws.source_servers({"hostname": "prod"})
    sources = {arn: p.detail for arn, p in launched(adapters, localaws, drilled).items()}
    sources |= {arn: p.detail for arn, p in launched(adapters, localaws, recovered, mode="recovery").items()}
    batch = batch_of(drilled + recovered, phase="cleanup", sources=sources)

    outcomes = settle(adapters["drs"], batch, adapters["drs"].start_batch(batch))

    assert {p.outcome for p in outcomes.values()} == {OK}
    assert localaws.calls()["drs:TerminateRecoveryInstances"] == 1
    assert outcomes[recovered[0]["arn"]].detail["kept"]
    left = aws("drs").describe_recovery_instances()["items"]
    assert [(i["sourceServerID"], i["isDrill"]) for i in left] == [(recovered[0]["sourceServerID"], False)]


def test_a_repeated_cleanup_finds_nothing_left_to_terminate(adapters, localaws):
    servers = localaws.source_servers({"hostname": "db-01"})
    sources = {arn: p.detail for arn, p in launched(adapters, localaws, servers).items()}
    batch = batch_of(servers, phase="cleanup", sources=sources)
    settle(adapters["drs"], batch, adapters["drs"].start_batch(batch))

    again = adapters["drs"].start_batch(batch)

    assert again.members[1].outcome is OK and "no recovery instance left" in again.members[1].detail["note"]
    assert localaws.calls()["drs:TerminateRecoveryInstances"] == 1


def test_replicate_reverses_a_recoverys_replication_and_changes_nothing_in_a_drill(adapters, localaws, aws):
    servers = localaws.source_servers({"hostname": "db-01"})
    sources = {arn: p.detail for arn, p in launched(adapters, localaws, servers, mode="recovery").items()}

    drill = adapters["drs"].start_batch(batch_of(servers, phase="replicate", mode="drill", sources=sources))
    assert drill.members[1].outcome is OK and drill.members[1].detail["applied"] is False
    assert aws("drs", region="us-east-1").describe_source_servers()["items"] == []

    real = adapters["drs"].start_batch(batch_of(servers, phase="replicate", mode="recovery", sources=sources))

    assert real.members[1].outcome is OK
    (reversed_server,) = aws("drs", region="us-east-1").describe_source_servers()["items"]
    assert real.members[1].detail["reversedDirectionSourceServerArn"] == reversed_server["arn"]


def test_a_resource_outside_any_batch_is_launched_as_a_batch_of_one(adapters, localaws, phase):
    (server,) = localaws.source_servers({"hostname": "alone"})

    done = phase(adapters["drs"], server["arn"])

    assert done.outcome is OK and done.detail["recoveryInstanceID"].startswith("i-")
