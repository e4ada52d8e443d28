"""The DRS adapter's reading of a shared job view (pure): one describe answers every server of a batch; and
which instances a cleanup terminates (against a stubbed client)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from services.workers.adapters.base import BatchContext, Failed, Outcome, ResourceContext, RetryLater
from services.workers.adapters.drs import DrsAdapter, server_id
from shared.aws.sessions import SessionFactory
from shared.domain.batches import EarlierOperations

SERVER = "s-0123456789abcdef0"
ARN = f"arn:aws:drs:us-west-2:123456789012:source-server/{SERVER}"
JOB = "drsjob-0123456789abcdef0"


@pytest.fixture
def drs() -> DrsAdapter:
    return DrsAdapter(SessionFactory(default_region="us-west-2"))


def ctx(phase: str = "instantiate", **detail) -> ResourceContext:
    return ResourceContext(1, "ex-1", ARN, "drill", phase, 1, detail=detail)


def job_view(status: str = "STARTED", launch: str | None = "IN_PROGRESS", **extra) -> dict:
    servers = {} if launch is None else {SERVER: {"launchStatus": launch, "recoveryInstanceID": "i-0aa"}}
    return {"jobID": JOB, "status": status, "servers": servers, **extra}


def test_a_launched_server_succeeds_with_its_recovery_instance(drs):
    progress = drs.member_status(job_view("COMPLETED", "LAUNCHED"), ctx())

    assert progress.outcome is Outcome.SUCCEEDED
    assert progress.detail == {"launchStatus": "LAUNCHED", "recoveryInstanceID": "i-0aa"}


@pytest.mark.parametrize("launch", ["PENDING", "IN_PROGRESS"])
def test_a_server_still_launching_is_in_progress(drs, launch):
    assert drs.member_status(job_view("STARTED", launch), ctx()).outcome is Outcome.IN_PROGRESS


@pytest.mark.parametrize("launch", ["FAILED", "TERMINATED"])
def test_a_failed_or_terminated_launch_fails_with_the_reason_from_the_job_log(drs, launch):
    view = job_view("COMPLETED", launch, reasons={SERVER: "no capacity"})

    progress = drs.member_status(view, ctx())

    assert progress.outcome is Outcome.FAILED
    assert progress.error == f"launch {launch} in DRS job {JOB}: no capacity"


def test_a_server_left_out_of_the_job_fails(drs):
    progress = drs.member_status(job_view("STARTED", None), ctx())

    assert progress.outcome is Outcome.FAILED and "left source server" in progress.error


def test_a_job_that_completed_without_launching_a_server_fails_it(drs):
    assert drs.member_status(job_view("COMPLETED", "PENDING"), ctx()).outcome is Outcome.FAILED


def test_a_look_up_error_fails_every_member(drs):
    progress = drs.member_status({"jobID": JOB, "error": f"DRS job {JOB} was not found"}, ctx())

    assert progress.outcome is Outcome.FAILED and "was not found" in progress.error


def test_activate_reads_the_state_of_the_servers_recovery_instance(drs):
    view = {"instances": {"i-0aa": {"sourceServerID": SERVER, "state": "RUNNING", "isDrill": True}}}

    assert drs.member_status(view, ctx("activate")).outcome is Outcome.SUCCEEDED
    view["instances"]["i-0aa"]["state"] = "PENDING"
    assert drs.member_status(view, ctx("activate")).outcome is Outcome.IN_PROGRESS
    view["instances"]["i-0aa"]["state"] = "STOPPED"
    assert drs.member_status(view, ctx("activate")).outcome is Outcome.FAILED
    assert drs.member_status({"instances": {}}, ctx("activate")).outcome is Outcome.FAILED


def test_cleanup_succeeds_once_the_instance_is_gone(drs):
    shutting = {"instances": {"i-0aa": {"sourceServerID": SERVER, "state": "SHUTTING-DOWN"}}}

    assert drs.member_status(shutting, ctx("cleanup", recoveryInstanceID="i-0aa")).outcome is Outcome.IN_PROGRESS
    assert drs.member_status({"instances": {}}, ctx("cleanup", recoveryInstanceID="i-0aa")).outcome is Outcome.SUCCEEDED


def test_the_source_server_id_comes_from_the_arn_unless_recorded():
    assert server_id(ctx()) == SERVER
    assert server_id(ctx(sourceServerID="s-0000000000000000f")) == "s-0000000000000000f"
    with pytest.raises(Failed):
        server_id(ResourceContext(1, "ex-1", "arn:aws:ecs:us-west-2:1:service/c/s", "drill", "instantiate", 1))


RECORDED, STRAY, UNTOLD, FOREIGN, TERMINATE = (f"drsjob-{n:017x}" for n in range(1, 6))
I_REC, I_STRAY, I_UNTOLD, I_FOREIGN = (f"i-{n:017x}" for n in range(1, 5))
S1, S2 = "s-00000000000000001", "s-00000000000000002"
JOB_ARN = "arn:aws:drs:us-west-2:123456789012:job/{}".format


def cleanup_of_the_drill() -> BatchContext:
    """A cleanup batch of two servers whose drill recorded one job (and instance each) and one stray job."""
    arn = "arn:aws:drs:us-west-2:123456789012:source-server/{}".format
    members = tuple(
        ResourceContext(
            n,
            "ex-cleanup",
            arn(sid),
            "drill",
            "cleanup",
            1,
            source_detail={"jobID": RECORDED, "recoveryInstanceID": iid},
        )
        for n, (sid, iid) in enumerate([(S1, I_REC), (S2, "i-00000000000000002")], 1)
    )
    earlier = EarlierOperations(("ex-drill",), (RECORDED, STRAY))
    return BatchContext(
        7, "ex-cleanup", "drill", "cleanup", "123456789012", "us-west-2", members=members, earlier=earlier
    )


def stubbed(drs: DrsAdapter) -> Stubber:
    client = boto3.client("drs", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    drs._drs = lambda _batch: client
    return Stubber(client)


def launched(server: str, job: str, status: str) -> dict:
    """A source server as DescribeSourceServers shows it, with its last launch."""
    launch = {"initiated": {"jobID": job}, "status": status}
    return {
        "sourceServerID": server,
        "arn": f"arn:aws:drs:us-west-2:123456789012:source-server/{server}",
        "lifeCycle": {"lastLaunch": launch},
    }


def job(job_id: str, execution: str) -> dict:
    return {"jobID": job_id, "arn": JOB_ARN(job_id), "type": "LAUNCH", "tags": {"drwave:execution": execution}}


def test_a_cleanup_terminates_the_drill_instances_of_every_job_of_the_drill_recorded_stray_or_tagged(drs):
    def instance(iid: str, sid: str, job_id: str) -> dict:
        return {"recoveryInstanceID": iid, "sourceServerID": sid, "jobID": job_id, "isDrill": True}

    stub = stubbed(drs)
    servers = {"filters": {"sourceServerIDs": [S1, S2]}, "maxResults": ANY}
    stub.add_response(
        "describe_source_servers",
        {"items": [launched(S1, STRAY, "LAUNCHED"), launched(S2, UNTOLD, "LAUNCHED")]},
        servers,
    )
    stub.add_response(
        "describe_recovery_instances",
        {
            "items": [
                instance(I_REC, S1, RECORDED),  # recorded
                instance(I_STRAY, S1, STRAY),  # a stray job on record
                instance(I_UNTOLD, S2, UNTOLD),  # never recorded, but tagged with the drill
                instance(I_FOREIGN, S2, FOREIGN),  # someone else's drill: left alone
            ]
        },
        servers,
    )
    stub.add_response(
        "describe_jobs",
        {"items": [job(UNTOLD, "ex-drill"), job(FOREIGN, "ex-other")]},
        {"filters": {"jobIDs": sorted([FOREIGN, UNTOLD])}, "maxResults": ANY},
    )
    stub.add_response(
        "terminate_recovery_instances",
        {"job": {"jobID": TERMINATE, "arn": JOB_ARN(TERMINATE), "type": "TERMINATE"}},
        {"recoveryInstanceIDs": [I_REC, I_STRAY, I_UNTOLD]},
    )

    with stub:
        started = drs.start_batch(cleanup_of_the_drill())

    stub.assert_no_pending_responses()
    assert started.operation_id == TERMINATE
    assert started.members[1].detail["recoveryInstanceIDs"] == [I_REC, I_STRAY]
    assert started.members[2].detail["recoveryInstanceID"] == I_UNTOLD
    view = {"instances": {I_STRAY: {"sourceServerID": S1, "state": "SHUTTING-DOWN"}}}
    member = ResourceContext(1, "ex-cleanup", "arn:x", "drill", "cleanup", 1, detail=started.members[1].detail)
    assert drs.member_status(view, member).outcome is Outcome.IN_PROGRESS  # the stray's instance is not gone yet
    assert drs.member_status({"instances": {}}, member).outcome is Outcome.SUCCEEDED


@pytest.mark.parametrize("running", [STRAY, UNTOLD])
def test_a_cleanup_waits_while_a_launch_job_of_the_drill_is_still_running(drs, running):
    stub = stubbed(drs)
    stub.add_response("describe_source_servers", {"items": [launched(S1, running, "IN_PROGRESS")]}, None)
    stub.add_response("describe_jobs", {"items": [job(running, "ex-drill")]}, None)

    with stub, pytest.raises(RetryLater, match=f"DRS launch job {running} .* still running"):
        drs.start_batch(cleanup_of_the_drill())

    stub.assert_no_pending_responses()  # nothing terminated before the drill's jobs have ended
