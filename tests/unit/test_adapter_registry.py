"""The adapter registry and the one place an adapter turns a boto3 error into retry / fail / done."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from services.workers.adapters import registry
from services.workers.adapters.base import BatchAdapter, Failed, RetryLater
from services.workers.adapters.common import DONE_ALREADY, aws
from shared.aws.sessions import SessionFactory


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


def raising(error: Exception):
    def call():
        raise error

    return call


def test_the_registry_has_the_five_aws_adapters_the_two_wave_actions_and_the_simulated_one():
    assert registry.names() == [
        "action-lambda",
        "action-ssm",
        "aurora",
        "drs",
        "ecs",
        "lambda",
        "route53",
        "simulated",
    ]


def test_every_adapter_is_built_from_one_session_factory_without_calling_aws():
    sessions = SessionFactory(default_region="us-west-2")

    adapters = registry.build_all(sessions=sessions, settings=None)

    assert {name: adapter.name for name, adapter in adapters.items()} == {name: name for name in registry.names()}
    assert isinstance(adapters["drs"], BatchAdapter) and adapters["drs"].batch_limit == 100
    assert all(getattr(a, "sessions", sessions) is sessions for a in adapters.values())


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException", 429),
        client_error("TooManyRequestsException", 429),
        client_error("Throttling"),
    ],
)
def test_throttling_after_botocores_retries_means_retry_later_never_failure(error):
    with pytest.raises(RetryLater, match=r"ecs\.update_service"):
        aws(raising(error), "ecs.update_service")


def test_a_connection_error_means_retry_later():
    with pytest.raises(RetryLater):
        aws(raising(EndpointConnectionError(endpoint_url="http://x")), "drs.describe_jobs", kind="read")


def test_a_fatal_error_fails_with_the_call_and_the_aws_message():
    with pytest.raises(Failed, match=r"lambda.get_function: AccessDeniedException: m \(Op, HTTP 403\)"):
        aws(raising(client_error("AccessDeniedException", 403)), "lambda.get_function")


def test_the_call_sites_own_done_already_codes_and_not_found_on_delete_mean_done_already():
    assert (
        aws(raising(client_error("ConflictException", 409)), "drs", done_already=("ConflictException",)) is DONE_ALREADY
    )
    assert aws(raising(client_error("ResourceNotFoundException", 404)), "delete", kind="delete") is DONE_ALREADY
    with pytest.raises(Failed):
        aws(raising(client_error("ConflictException", 409)), "drs.start_recovery")
