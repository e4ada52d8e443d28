"""The admin API and the endpoint's robustness against bad input and internal bugs."""

from __future__ import annotations

import json

import pytest
import requests
from botocore.exceptions import ClientError

SIGNED_DRS = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-west-2/drs/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0",
    "Content-Type": "application/json",
}


def test_health_answers_200(endpoint):
    response = requests.get(f"{endpoint}/_localaws/health", timeout=5)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_reset_forgets_moto_and_drs_state(admin, aws_client):
    admin.source_servers(servers=[{"hostname": "db-01"}])
    aws_client("ecs").create_cluster(clusterName="dr")

    admin.post("reset")

    assert aws_client("drs").describe_source_servers()["items"] == []
    assert aws_client("ecs").list_clusters()["clusterArns"] == []


def test_config_changes_the_step_times_and_refuses_unknown_keys(admin, endpoint):
    assert admin.post("config", {"drsJobStepSeconds": 0.3})["drsJobStepSeconds"] == 0.3

    response = requests.post(f"{endpoint}/_localaws/config", json={"drsJobSteps": 1}, timeout=5)

    assert response.status_code == 400
    assert admin.get("config")["drsJobStepSeconds"] == 0.3


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "drs/source-servers", "{not json", 400),
        ("POST", "drs/source-servers", json.dumps({"region": "us-west-2", "servers": []}), 400),
        ("POST", "drs/source-servers", json.dumps({"servers": [{"hostname": "x"}]}), 400),
        ("POST", "drs/source-servers", json.dumps({"region": "us-west-2", "servers": [{"tags": {}}]}), 400),
        ("GET", "no-such-endpoint", None, 404),
        ("DELETE", "health", None, 405),
    ],
)
def test_bad_admin_requests_get_a_json_error_and_never_a_500(admin, endpoint, method, path, body, status):
    response = requests.request(method, f"{endpoint}/_localaws/{path}", data=body, timeout=5)

    assert response.status_code == status
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/StartRecovery", b"[1, 2]"),
        ("/StartRecovery", b"{broken"),
        ("/StartRecovery", b'{"sourceServers": "all"}'),
        ("/StartRecovery", b'{"sourceServers": [{"sourceServerID": 7}]}'),
        ("/StartRecovery", b'{"sourceServers": [{"sourceServerID": "s-0123456789abcdef0"}], "tags": "x"}'),
        ("/DescribeJobs", b'{"filters": {"jobIDs": 5}}'),
        ("/DescribeJobs", b'{"filters": "all"}'),
        ("/DescribeSourceServers", b'{"maxResults": 0}'),
        ("/TerminateRecoveryInstances", b'{"recoveryInstanceIDs": [["i-1"]]}'),
    ],
)
def test_malformed_drs_requests_are_validation_errors_not_500s(admin, endpoint, path, body):
    response = requests.post(f"{endpoint}{path}", data=body, headers=SIGNED_DRS, timeout=5)

    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "ValidationException"
    assert requests.get(f"{endpoint}/_localaws/health", timeout=5).status_code == 200


def test_a_bug_in_the_emulation_answers_500_and_the_server_keeps_serving(
    admin, aws_client, localaws, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(localaws.state.drs, "region", broken)

    with pytest.raises(ClientError) as caught:
        aws_client("drs").describe_jobs()

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert caught.value.response["Error"]["Code"] == "InternalFailure"
    assert "simulated bug" in caught.value.response["Error"]["Message"]
    monkeypatch.undo()
    assert aws_client("drs").describe_jobs()["items"] == []
