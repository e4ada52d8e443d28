"""A resource of a registered target account is recovered with that account's role, found from its ARN."""

from __future__ import annotations

import boto3

from services.workers.adapters.base import Outcome

OTHER = "210987654321"
DR = "us-west-2"


def role_in(account: str) -> str:
    return f"arn:aws:iam::{account}:role/drwave-recovery"


def as_other_account(aws_endpoint: str, service: str, account: str = OTHER):
    sts = boto3.client(
        "sts", endpoint_url=aws_endpoint, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    creds = sts.assume_role(RoleArn=role_in(account), RoleSessionName="check")["Credentials"]
    return boto3.client(
        service,
        endpoint_url=aws_endpoint,
        region_name=DR,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def test_an_adapter_given_the_target_accounts_role_acts_in_that_account(adapters, localaws, aws, aws_endpoint, phase):
    (server,) = localaws.post(
        "drs/source-servers", {"accountId": OTHER, "region": DR, "servers": [{"hostname": "far-db"}]}
    )["servers"]

    done = phase(adapters["drs"], server["arn"], detail={}, role_arn=role_in(OTHER))

    assert done.outcome is Outcome.SUCCEEDED
    assert len(as_other_account(aws_endpoint, "drs").describe_jobs()["items"]) == 1
    assert aws("drs").describe_jobs()["items"] == []  # nothing in drwave's own account


def test_a_drill_of_a_registered_target_accounts_server_runs_in_that_account(api, localaws, aws, aws_endpoint, runs_of):
    api.post(
        "/v1/target-accounts", {"accountId": OTHER, "name": "far away", "roleArn": role_in(OTHER), "regions": [DR]}
    )  # 201, or 409 when an earlier test registered it
    (server,) = localaws.post(
        "drs/source-servers", {"accountId": OTHER, "region": DR, "servers": [{"hostname": "far-app"}]}
    )["servers"]
    plan = api.plan([{"name": "Far", "arns": [server["arn"]]}])

    execution = api.wait(api.start(plan, mode="drill"))

    assert execution["status"] == "COMPLETED", runs_of(execution)
    (job,) = as_other_account(aws_endpoint, "drs").describe_jobs()["items"]
    assert runs_of(execution)[server["arn"]]["operationId"] == job["jobID"]
    assert aws("drs").describe_jobs()["items"] == []
