"""The DRS adapter's reading of a shared job view (pure): one describe answers every server of a batch."""

from __future__ import annotations

import pytest

from services.workers.adapters.base import Failed, Outcome, ResourceContext
from services.workers.adapters.drs import DrsAdapter, server_id
from shared.aws.sessions import SessionFactory

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
