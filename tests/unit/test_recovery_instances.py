"""Recovery instances through boto3: the launch time is the EC2 instance's LaunchTime, DRS's snapshot time
where EC2 does not know the instance or refuses to say. Clients from a real SessionFactory, answered by
botocore's ``Stubber`` (the edge)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from shared.aws.discovery import AccountAccess
from shared.aws.drs_ops import DrsOperations
from shared.aws.sessions import SessionFactory

REGION = "us-west-2"
SNAPSHOT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LAUNCHED = datetime(2026, 12, 1, 9, 4, 30, tzinfo=UTC)
JOB = "drsjob-" + "1" * 17


pytestmark = pytest.mark.usefixtures("hermetic_aws_environment")


@pytest.fixture
def sessions() -> SessionFactory:
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return SessionFactory(default_region=REGION, max_attempts=1, base_session_kwargs=keys)


def stub(sessions: SessionFactory, service: str) -> Stubber:
    stubber = Stubber(sessions.client(service, region=REGION))
    stubber.activate()
    return stubber


def recovery_instance(number: int) -> dict:
    return {
        "recoveryInstanceID": f"i-{number:017x}",
        "ec2InstanceID": f"i-{number:017x}",
        "ec2InstanceState": "RUNNING",
        "sourceServerID": f"s-{number:017x}",
        "jobID": JOB,
        "isDrill": True,
        "pointInTimeSnapshotDateTime": SNAPSHOT.isoformat(),
    }


def listed(sessions: SessionFactory, ec2_answer: dict | None) -> dict[str, str]:
    drs, ec2 = stub(sessions, "drs"), stub(sessions, "ec2")
    servers = [f"s-{n:017x}" for n in (1, 2)]
    drs.add_response(
        "describe_recovery_instances",
        {"items": [recovery_instance(1), recovery_instance(2)]},
        {"filters": {"sourceServerIDs": servers}, "maxResults": 100},
    )
    ids = [f"i-{n:017x}" for n in (1, 2)]
    if ec2_answer is None:
        ec2.add_client_error("describe_instances", "UnauthorizedOperation", http_status_code=403)
    else:
        ec2.add_response("describe_instances", ec2_answer, {"Filters": [{"Name": "instance-id", "Values": ids}]})
    found = DrsOperations(sessions).recovery_instances(AccountAccess(), REGION, servers, {JOB})
    ec2.assert_no_pending_responses()
    return {i["recovery_instance_id"]: i["launch_time"] for i in found}


def test_the_launch_time_is_ec2s_and_drss_snapshot_time_where_ec2_does_not_know_the_instance(sessions):
    known = {"Reservations": [{"Instances": [{"InstanceId": f"i-{1:017x}", "LaunchTime": LAUNCHED}]}]}

    assert listed(sessions, known) == {f"i-{1:017x}": LAUNCHED.isoformat(), f"i-{2:017x}": SNAPSHOT.isoformat()}


def test_an_ec2_that_refuses_to_describe_instances_leaves_drss_time_instead_of_failing_the_list(sessions):
    assert set(listed(sessions, None).values()) == {SNAPSHOT.isoformat()}
