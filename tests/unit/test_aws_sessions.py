"""SessionFactory: cached clients, standard retries, endpoints, refreshable assumed-role credentials.

No network: STS is a botocore ``Stubber``-ed client injected through ``sts_client_factory``, and
calls of target clients are answered by a ``before-send`` hook, which botocore honours instead of
sending the request.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from shared.aws.sessions import SessionFactory

ROLE = "arn:aws:iam::210987654321:role/drwave-recovery"
OTHER_ROLE = "arn:aws:iam::210987654321:role/drwave-readonly"
STATIC = {"aws_access_key_id": "AKIABASEEXAMPLE", "aws_secret_access_key": "base-secret"}


pytestmark = pytest.mark.usefixtures("hermetic_aws_environment")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


def answer_locally(client, body: bytes = b"{}") -> list:
    """Make ``client`` answer every call with ``body`` (HTTP 200) without sending; returns the
    list the sent requests are appended to."""
    sent: list = []

    def before_send(request, **_kwargs):
        sent.append(request)
        return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.1"}, _Raw(body))

    client.meta.events.register("before-send", before_send)
    return sent


def stubbed_sts(*responses: tuple[str, datetime], external_id: str | None = None, role: str = ROLE):
    """A real STS client whose ``AssumeRole`` answers come from a Stubber, in order."""
    sts = boto3.session.Session(**STATIC).client("sts", region_name="us-east-1")
    stubber = Stubber(sts)
    for access_key, expiration in responses:
        expected = {"RoleArn": role, "RoleSessionName": "drwave", "DurationSeconds": 3600}
        if external_id is not None:
            expected["ExternalId"] = external_id
        stubber.add_response(
            "assume_role",
            {
                "Credentials": {
                    "AccessKeyId": access_key,
                    "SecretAccessKey": f"secret-of-{access_key}",
                    "SessionToken": f"token-of-{access_key}",
                    "Expiration": expiration,
                },
                "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:drwave", "Arn": f"{role}/drwave"},
            },
            expected,
        )
    stubber.activate()
    return sts, stubber


def factory(**kwargs) -> SessionFactory:
    return SessionFactory(default_region="us-east-1", base_session_kwargs=STATIC, **kwargs)


def signed_access_key(request) -> str:
    authorization = request.headers["Authorization"]
    authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
    return authorization.split("Credential=", 1)[1].split("/", 1)[0]


def in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


# --- caching -----------------------------------------------------------------------------------


def test_the_same_key_returns_the_same_client():
    sessions = factory()
    assert sessions.client("ecs", region="us-west-2") is sessions.client("ecs", region="us-west-2")


def test_different_services_regions_or_roles_get_different_clients():
    sessions = factory(sts_client_factory=lambda: stubbed_sts()[0])
    clients = [
        sessions.client("ecs", region="us-west-2"),
        sessions.client("ecs", region="eu-west-1"),
        sessions.client("lambda", region="us-west-2"),
        sessions.client("ecs", region="us-west-2", role_arn=ROLE),
        sessions.client("ecs", region="us-west-2", role_arn=OTHER_ROLE),
        sessions.client("ecs", region="us-west-2", role_arn=ROLE, external_id="ext-1"),
    ]
    assert len({id(c) for c in clients}) == len(clients)


def test_the_region_defaults_to_the_default_region():
    sessions = factory()
    client = sessions.client("ecs")
    assert client.meta.region_name == "us-east-1"
    assert client is sessions.client("ecs", region="us-east-1")


def test_concurrent_callers_of_one_key_share_one_client():
    sessions = factory()
    results: list = []
    barrier = threading.Barrier(16)

    def build():
        barrier.wait()
        results.append(sessions.client("drs", region="us-east-2"))

    threads = [threading.Thread(target=build) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 16 and len({id(c) for c in results}) == 1


def test_reset_forgets_cached_clients():
    sessions = factory()
    before = sessions.client("ecs", region="us-east-1")
    sessions.reset()
    assert sessions.client("ecs", region="us-east-1") is not before


# --- configuration -----------------------------------------------------------------------------


def test_every_client_uses_standard_retries_with_the_configured_attempts_and_timeouts():
    sessions = factory(max_attempts=7, connect_timeout=2, read_timeout=9)
    client = sessions.client("ecs", region="us-east-1", role_arn=ROLE)
    config = client.meta.config
    assert config.retries["mode"] == "standard"
    assert config.retries["total_max_attempts"] == 7  # 7 attempts in all: the first call and 6 retries
    assert (config.connect_timeout, config.read_timeout) == (2, 9)


def test_without_an_endpoint_setting_clients_use_the_aws_endpoint():
    assert (
        factory().client("ecs", region="eu-west-1").meta.endpoint_url == "https://ecs.eu-west-1.amazonaws.com"
    )


def test_the_standard_endpoint_environment_variables_are_honoured(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:5000")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DRS", "http://localhost:5100")
    sessions = factory()
    assert sessions.client("ecs", region="us-east-1").meta.endpoint_url == "http://localhost:5000"
    assert sessions.client("drs", region="us-east-1").meta.endpoint_url == "http://localhost:5100"
    assumed = sessions.client("drs", region="us-east-1", role_arn=ROLE)
    assert assumed.meta.endpoint_url == "http://localhost:5100"


def test_an_endpoint_given_to_the_factory_applies_to_every_client(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DRS", "http://localhost:5100")
    sessions = factory(endpoint_url="http://localhost:4566")
    assert sessions.client("drs", region="us-east-1").meta.endpoint_url == "http://localhost:4566"
    assert (
        sessions.client("ecs", region="us-east-1", role_arn=ROLE).meta.endpoint_url == "http://localhost:4566"
    )


def test_base_clients_sign_with_the_base_session_credentials():
    client = factory().client("ecs", region="us-east-1")
    sent = answer_locally(client, b'{"clusterArns": []}')
    assert client.list_clusters()["clusterArns"] == []
    assert signed_access_key(sent[0]) == "AKIABASEEXAMPLE"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"role_arn": "arn:aws:iam::210987654321:user/bob"},
        {"role_arn": "not-an-arn"},
        {"role_arn": ROLE, "account_id": "123456789012"},
        {"account_id": "12345"},
        {"external_id": "ext-1"},
    ],
)
def test_inconsistent_targets_are_refused_before_anything_is_built(kwargs):
    with pytest.raises(ValueError):
        factory().client("ecs", region="us-east-1", **kwargs)


def test_a_role_in_the_named_account_is_accepted():
    client = factory().client("ecs", region="us-east-1", account_id="210987654321", role_arn=ROLE)
    assert client.meta.region_name == "us-east-1"


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"role_session_name": "x"}, {"role_duration_seconds": 60}]
)
def test_nonsensical_factory_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        factory(**kwargs)


# --- assumed roles -----------------------------------------------------------------------------


def test_nothing_calls_sts_until_an_assumed_role_client_makes_its_first_call():
    calls: list = []

    class CountingSts:
        def assume_role(self, **kwargs):
            calls.append(kwargs)
            raise AssertionError("must not be called")

    sessions = factory(sts_client_factory=CountingSts)
    sessions.client("ecs", region="us-east-1", role_arn=ROLE)
    sessions.client("lambda", region="us-west-2", role_arn=ROLE)
    assert calls == []


def test_an_assumed_role_client_signs_with_credentials_from_sts():
    sts, stubber = stubbed_sts(("ASIAASSUMEDROLE01", in_an_hour()))
    sessions = factory(sts_client_factory=lambda: sts)
    client = sessions.client("ecs", region="us-west-2", role_arn=ROLE)
    sent = answer_locally(client, b'{"clusterArns": []}')

    client.list_clusters()

    assert signed_access_key(sent[0]) == "ASIAASSUMEDROLE01"
    assert sent[0].headers["X-Amz-Security-Token"] in (
        b"token-of-ASIAASSUMEDROLE01",
        "token-of-ASIAASSUMEDROLE01",
    )
    stubber.assert_no_pending_responses()


def test_the_external_id_is_passed_to_assume_role():
    sts, stubber = stubbed_sts(("ASIAEXTERNALID001", in_an_hour()), external_id="tenant-42")
    sessions = factory(sts_client_factory=lambda: sts)
    client = sessions.client("ecs", region="us-east-1", role_arn=ROLE, external_id="tenant-42")
    sent = answer_locally(client)

    client.list_clusters()

    assert signed_access_key(sent[0]) == "ASIAEXTERNALID001"
    stubber.assert_no_pending_responses()


def test_one_role_is_assumed_once_for_all_its_regions_and_services():
    sts, stubber = stubbed_sts(("ASIASHAREDROLE001", in_an_hour()))  # a second AssumeRole would fail the stub
    sessions = factory(sts_client_factory=lambda: sts)
    ecs = sessions.client("ecs", region="us-east-1", role_arn=ROLE)
    lam = sessions.client("lambda", region="eu-west-1", role_arn=ROLE)
    sent = answer_locally(ecs)
    sent_lambda = answer_locally(lam, b'{"Functions": []}')

    ecs.list_clusters()
    ecs.list_clusters()
    lam.list_functions()

    assert signed_access_key(sent[0]) == "ASIASHAREDROLE001"
    assert signed_access_key(sent_lambda[0]) == "ASIASHAREDROLE001"
    stubber.assert_no_pending_responses()


def test_credentials_near_expiry_are_refreshed_by_assuming_the_role_again():
    soon = datetime.now(UTC) + timedelta(minutes=2)  # inside botocore's mandatory refresh window
    sts, stubber = stubbed_sts(("ASIAFIRSTCREDS001", soon), ("ASIASECONDCREDS01", in_an_hour()))
    sessions = factory(sts_client_factory=lambda: sts)
    client = sessions.client("ecs", region="us-east-1", role_arn=ROLE)
    sent = answer_locally(client)

    client.list_clusters()
    client.list_clusters()
    client.list_clusters()

    assert [signed_access_key(r) for r in sent] == [
        "ASIAFIRSTCREDS001",
        "ASIASECONDCREDS01",
        "ASIASECONDCREDS01",
    ]
    stubber.assert_no_pending_responses()


def test_a_refused_assume_role_surfaces_as_a_client_error_on_the_first_call():
    sts = boto3.session.Session(**STATIC).client("sts", region_name="us-east-1")
    stubber = Stubber(sts)
    stubber.add_client_error("assume_role", "AccessDenied", "not authorized to assume", 403)
    stubber.activate()
    sessions = factory(sts_client_factory=lambda: sts)
    client = sessions.client("ecs", region="us-east-1", role_arn=ROLE)
    answer_locally(client)

    with pytest.raises(ClientError) as raised:
        client.list_clusters()
    assert raised.value.response["Error"]["Code"] == "AccessDenied"


def test_the_default_sts_client_comes_from_the_base_session_with_the_same_settings(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://localhost:5000")
    sessions = factory(max_attempts=3)
    sts = sessions._sts()
    assert sts.meta.endpoint_url == "http://localhost:5000"
    assert sts.meta.config.retries["mode"] == "standard"
    assert sts.meta.region_name == "us-east-1"


def test_a_throttled_call_is_attempted_max_attempts_times_in_all(monkeypatch):
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _seconds: None)
    client = factory(max_attempts=3).client("ecs", region="us-east-1")
    sent: list = []

    def throttled(request, **_kwargs):
        sent.append(request)
        body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
        return AWSResponse(request.url, 400, {"content-type": "application/x-amz-json-1.1"}, _Raw(body))

    client.meta.events.register("before-send", throttled)

    with pytest.raises(ClientError) as raised:
        client.list_clusters()
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert len(sent) == 3


# --- counting calls ----------------------------------------------------------------------------


def test_every_attempt_is_reported_with_its_outcome_throttled_retries_included(monkeypatch):
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _seconds: None)
    calls: list[tuple[str, str, str]] = []
    client = factory(max_attempts=3, on_call=lambda *call: calls.append(call)).client("ecs", region="us-east-1")
    answers = iter(
        [
            (400, b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'),
            (400, b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'),
            (200, b'{"clusterArns": []}'),
        ]
    )

    def answer(request, **_kwargs):
        status, body = next(answers)
        return AWSResponse(request.url, status, {"content-type": "application/x-amz-json-1.1"}, _Raw(body))

    client.meta.events.register("before-send", answer)
    assert client.list_clusters()["clusterArns"] == []
    assert calls == [
        ("ecs", "ListClusters", "throttled"),
        ("ecs", "ListClusters", "throttled"),
        ("ecs", "ListClusters", "ok"),
    ]


def test_a_refused_call_is_a_client_error_and_a_role_client_is_counted_too():
    calls: list[tuple[str, str, str]] = []
    sts, _ = stubbed_sts(("ASIACOUNTEDCALLS", in_an_hour()))
    sessions = factory(sts_client_factory=lambda: sts, on_call=lambda *call: calls.append(call))
    client = sessions.client("lambda", region="us-west-2", role_arn=ROLE)

    def refused(request, **_kwargs):
        body = b'{"Type": "User", "message": "no such function"}'
        headers = {"content-type": "application/json", "x-amzn-errortype": "ResourceNotFoundException"}
        return AWSResponse(request.url, 404, headers, _Raw(body))

    client.meta.events.register("before-send", refused)
    with pytest.raises(ClientError):
        client.get_function(FunctionName="f")
    assert calls == [("lambda", "GetFunction", "client_error")]
