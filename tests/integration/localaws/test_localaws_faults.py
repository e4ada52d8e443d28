"""Injected throttling, slow calls and call counting, as seen by a boto3 client without retries."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from botocore.exceptions import ClientError


def _outcomes(call, times):
    codes = []
    for _ in range(times):
        try:
            call()
            codes.append("ok")
        except ClientError as err:
            codes.append(err.response["Error"]["Code"])
    return codes


def test_a_throttle_rate_of_one_half_throttles_every_second_drs_call(admin, aws_client):
    admin.source_servers(servers=[{"hostname": "db-01"}])
    admin.post("faults", {"service": "drs", "operation": "DescribeSourceServers", "throttleRate": 0.5})
    admin.post("calls/reset")
    drs = aws_client("drs")

    codes = _outcomes(drs.describe_source_servers, 10)

    assert codes.count("ThrottlingException") == 5
    assert codes.count("ok") == 5
    assert codes[:4] == ["ok", "ThrottlingException", "ok", "ThrottlingException"]
    counts = admin.get("calls")
    assert counts["calls"]["drs:DescribeSourceServers"] == 10
    assert counts["throttled"]["drs:DescribeSourceServers"] == 5


def test_throttling_of_a_json_service_is_a_429_throttling_exception(admin, aws_client):
    admin.post("faults", {"service": "drs", "operation": "*", "throttleRate": 1})

    with pytest.raises(ClientError) as caught:
        aws_client("drs").describe_jobs()

    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_throttling_of_a_query_service_is_a_400_throttling_error_from_moto_services_too(admin, aws_client):
    admin.post("faults", {"service": "rds", "operation": "DescribeDBClusters", "throttleRate": 1})
    rds = aws_client("rds")

    with pytest.raises(ClientError) as caught:
        rds.describe_db_clusters()

    assert caught.value.response["Error"]["Code"] == "Throttling"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert rds.describe_global_clusters()["GlobalClusters"] == []  # other operations still pass


def test_throttling_of_ecs_uses_the_json_error_shape(admin, aws_client):
    admin.post("faults", {"service": "ecs", "operation": "*", "throttleRate": 1})

    with pytest.raises(ClientError) as caught:
        aws_client("ecs").list_clusters()

    assert caught.value.response["Error"]["Code"] == "ThrottlingException"


def test_removing_faults_lets_every_call_through_again(admin, aws_client):
    admin.post("faults", {"service": "*", "operation": "*", "throttleRate": 1})
    drs = aws_client("drs")
    assert _outcomes(drs.describe_jobs, 2) == ["ThrottlingException"] * 2

    admin.delete("faults")

    assert _outcomes(drs.describe_jobs, 2) == ["ok", "ok"]
    assert admin.get("faults") == {"faults": []}


def test_a_slow_call_rule_answers_its_first_calls_later_while_other_calls_go_on(admin, aws_client):
    admin.source_servers(servers=[{"hostname": "db-01"}])
    admin.post("faults", {"service": "drs", "operation": "DescribeJobs", "delaySeconds": 15, "calls": 1})
    admin.post("calls/reset")
    answered: list[dict] = []
    slow = threading.Thread(target=lambda: answered.append(aws_client("drs").describe_jobs()))
    slow.start()
    while admin.calls().get("drs:DescribeJobs", 0) < 1:  # the slow call has arrived and is being held
        time.sleep(0.05)
    drs = aws_client("drs")

    servers = drs.describe_source_servers()["items"]  # other calls are served meanwhile
    still_held = slow.is_alive()
    drs.describe_jobs()  # the rule slows only its first call
    (rule,) = admin.get("faults")["faults"]
    slow.join()

    assert still_held and len(servers) == 1
    assert (rule["matched"], rule["delayed"], rule["calls"]) == (2, 1, 1)
    assert answered == [{**answered[0], "items": []}]  # answered normally, only later
    assert admin.get("calls")["throttled"] == {}


def test_calls_are_counted_per_service_and_operation_for_moto_and_our_emulators(admin, aws_client):
    admin.post("calls/reset")
    aws_client("drs").describe_jobs()
    aws_client("drs").describe_jobs()
    aws_client("rds").describe_db_clusters()
    aws_client("ecs").list_clusters()
    aws_client("lambda").list_functions()
    aws_client("route53", region="us-east-1").list_hosted_zones()
    aws_client("resourcegroupstaggingapi").get_resources()

    calls = admin.calls()

    assert calls == {
        "drs:DescribeJobs": 2,
        "rds:DescribeDBClusters": 1,
        "ecs:ListClusters": 1,
        "lambda:ListFunctions": 1,
        "route53:ListHostedZones": 1,
        "resourcegroupstaggingapi:GetResources": 1,
    }
    admin.post("calls/reset")
    assert admin.calls() == {}


@pytest.mark.parametrize(
    "payload",
    [
        {"operation": "*", "throttleRate": 0.5},
        {"service": "drs", "throttleRate": 1.5},
        {"service": "drs", "throttleRate": "half"},
        {"service": "drs", "delaySeconds": 0},
        {"service": "drs", "delaySeconds": 5, "calls": 0},
        {"service": "drs", "delaySeconds": 5, "throttleRate": 1},
    ],
)
def test_a_malformed_fault_is_refused_with_400(admin, endpoint, payload):
    response = requests.post(f"{endpoint}/_localaws/faults", json=payload, timeout=10)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("service", "region", "call", "code", "status"),
    [
        ("route53", "us-east-1", lambda c: c.list_hosted_zones(), "Throttling", 400),
        ("sts", "us-east-1", lambda c: c.get_caller_identity(), "Throttling", 400),
        ("events", "us-west-2", lambda c: c.list_rules(), "ThrottlingException", 429),
        ("lambda", "us-west-2", lambda c: c.list_functions(), "TooManyRequestsException", 429),
        ("ec2", "us-west-2", lambda c: c.describe_vpcs(), "RequestLimitExceeded", 503),
    ],
)
def test_each_service_is_throttled_with_the_error_it_really_sends(
    admin, aws_client, service, region, call, code, status
):
    admin.post("faults", {"service": service, "operation": "*", "throttleRate": 1})

    with pytest.raises(ClientError) as caught:
        call(aws_client(service, region=region))

    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


# --- Region outages -------------------------------------------------------------------------------

OUTAGE = {"service": "rds", "operation": "*", "region": "us-east-1", "outage": True}


def _unavailable(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_an_outage_answers_every_call_to_its_region_with_503_service_unavailable(admin, aws_client):
    admin.post("faults", OUTAGE)
    rds = aws_client("rds", region="us-east-1")

    assert _unavailable(rds.describe_db_clusters) == ("ServiceUnavailable", 503)
    assert _unavailable(rds.describe_global_clusters) == ("ServiceUnavailable", 503)
    assert admin.get("faults")["faults"] == [{**OUTAGE, "matched": 2}]


def test_an_outage_of_one_region_leaves_the_other_regions_and_services_alone(admin, aws_client):
    admin.post("faults", OUTAGE)

    assert aws_client("rds", region="us-west-2").describe_db_clusters()["DBClusters"] == []
    assert aws_client("drs", region="us-east-1").describe_jobs()["items"] == []


def test_an_outage_of_every_service_answers_json_services_with_service_unavailable_exception(admin, aws_client):
    admin.post("faults", {**OUTAGE, "service": "*"})

    assert _unavailable(aws_client("drs", region="us-east-1").describe_jobs) == ("ServiceUnavailableException", 503)
    assert _unavailable(aws_client("rds", region="us-east-1").describe_db_clusters) == ("ServiceUnavailable", 503)


def test_an_outage_lasts_until_its_rule_is_deleted_and_other_rules_stay(admin, aws_client, endpoint):
    admin.post("faults", OUTAGE)
    admin.post("faults", {"service": "ecs", "operation": "*", "throttleRate": 1})
    rds = aws_client("rds", region="us-east-1")
    assert _unavailable(rds.describe_db_clusters)[1] == 503

    response = requests.delete(
        f"{endpoint}/_localaws/faults", json={"service": "rds", "operation": "*", "region": "us-east-1"}, timeout=10
    )

    assert response.status_code == 200
    assert rds.describe_db_clusters()["DBClusters"] == []
    assert [rule["service"] for rule in response.json()["faults"]] == ["ecs"]


def test_deleting_a_rule_that_does_not_exist_is_a_404(admin, endpoint):
    rule = {"service": "rds", "region": "eu-west-1"}

    response = requests.delete(f"{endpoint}/_localaws/faults", json=rule, timeout=10)

    assert response.status_code == 404


def test_an_outage_wins_over_a_throttling_rule_of_the_same_calls(admin, aws_client):
    admin.post("faults", {"service": "rds", "operation": "*", "throttleRate": 1})
    admin.post("faults", OUTAGE)

    assert _unavailable(aws_client("rds", region="us-east-1").describe_db_clusters) == ("ServiceUnavailable", 503)
    assert _unavailable(aws_client("rds", region="us-west-2").describe_db_clusters) == ("Throttling", 400)


@pytest.mark.parametrize(
    "payload",
    [
        {**OUTAGE, "outage": False},
        {**OUTAGE, "outage": "yes"},
        {**OUTAGE, "throttleRate": 1},
        {**OUTAGE, "region": ""},
    ],
)
def test_a_malformed_outage_is_refused_with_400(admin, endpoint, payload):
    response = requests.post(f"{endpoint}/_localaws/faults", json=payload, timeout=10)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"
