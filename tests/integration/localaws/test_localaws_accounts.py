"""Every resource lives in one account: assumed-role credentials see their own account only."""

from __future__ import annotations

import boto3
import pytest

from deploy.localaws import LocalAws

OTHER_ACCOUNT = "210987654321"


@pytest.fixture
def other_account(aws_client):
    sts = aws_client("sts", region="us-east-1")
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/drwave", RoleSessionName="drwave"
    )["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def test_assumed_role_credentials_belong_to_the_roles_account(aws_client, other_account):
    assert aws_client("sts", credentials=other_account).get_caller_identity()["Account"] == OTHER_ACCOUNT
    assert aws_client("sts").get_caller_identity()["Account"] == "123456789012"


def test_moto_resources_created_in_another_account_are_invisible_to_the_default_account(
    aws_client, other_account
):
    aws_client("ecs", credentials=other_account).create_cluster(
        clusterName="tenant-dr", tags=[{"key": "Customer", "value": "ABCD"}]
    )

    assert aws_client("ecs").list_clusters()["clusterArns"] == []
    (arn,) = aws_client("ecs", credentials=other_account).list_clusters()["clusterArns"]
    assert f":{OTHER_ACCOUNT}:" in arn
    tagging = aws_client("resourcegroupstaggingapi")
    assert (
        tagging.get_resources(TagFilters=[{"Key": "Customer", "Values": ["ABCD"]}])["ResourceTagMappingList"]
        == []
    )


def test_drs_servers_and_jobs_of_another_account_are_invisible_to_the_default_account(
    admin, aws_client, other_account, wait_for
):
    (server,) = admin.source_servers(account=OTHER_ACCOUNT, servers=[{"hostname": "tenant-db"}])
    other_drs = aws_client("drs", credentials=other_account)

    job = other_drs.start_recovery(sourceServers=[{"sourceServerID": server["sourceServerID"]}])["job"]

    assert f":{OTHER_ACCOUNT}:" in server["arn"] and f":{OTHER_ACCOUNT}:" in job["arn"]
    assert [s["sourceServerID"] for s in other_drs.describe_source_servers()["items"]] == [
        server["sourceServerID"]
    ]
    drs = aws_client("drs")
    assert drs.describe_source_servers()["items"] == []
    assert drs.describe_jobs()["items"] == []
    wait_for(lambda: other_drs.describe_recovery_instances()["items"])
    assert drs.describe_recovery_instances()["items"] == []


def test_aurora_global_clusters_of_another_account_are_invisible_to_the_default_account(
    aws_client, other_account
):
    aws_client("rds", region="us-east-1", credentials=other_account).create_global_cluster(
        GlobalClusterIdentifier="tenant-orders", Engine="aurora-postgresql"
    )

    assert aws_client("rds", region="us-east-1").describe_global_clusters()["GlobalClusters"] == []
    other = aws_client("rds", region="us-east-1", credentials=other_account).describe_global_clusters()
    assert [c["GlobalClusterIdentifier"] for c in other["GlobalClusters"]] == ["tenant-orders"]


def test_an_endpoint_started_with_another_default_account_puts_static_credentials_there(admin, endpoint):
    with LocalAws(port=0, account="111122223333") as other:
        assert other.endpoint_url != endpoint

        def client(service):
            return boto3.client(
                service,
                endpoint_url=other.endpoint_url,
                region_name="us-west-2",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )

        assert client("sts").get_caller_identity()["Account"] == "111122223333"
        arn = client("ecs").create_cluster(clusterName="dr")["cluster"]["clusterArn"]
        assert ":111122223333:" in arn
