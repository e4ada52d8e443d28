"""AWS errors sorted into done-already, retryable and fatal — built from real botocore exceptions."""

from __future__ import annotations

import pytest
from botocore import exceptions as bx

from shared.aws.errors import ErrorClass, call_outcome, classify, describe, error_code, http_status, is_not_found

DONE, RETRY, FATAL = ErrorClass.DONE_ALREADY, ErrorClass.RETRYABLE, ErrorClass.FATAL
UNREACHABLE = ErrorClass.REGION_UNREACHABLE


def client_error(
    code: str, message: str = "boom", status: int = 400, operation: str = "StartRecovery"
) -> bx.ClientError:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-1"},
    }
    return bx.ClientError(response, operation)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "code",
    [
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "PriorRequestNotComplete",
        "InternalError",
        "InternalFailure",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "SlowDown",
    ],
)
def test_throttling_and_server_hiccups_are_retryable(code):
    assert classify(client_error(code)) is RETRY
    assert classify(client_error(code), "delete") is RETRY
    assert classify(client_error(code), "read") is RETRY


@pytest.mark.parametrize("status", [429, 500, 502, 504])
def test_http_429_and_5xx_other_than_503_are_retryable_whatever_the_code(status):
    assert classify(client_error("SomethingOdd", status=status)) is RETRY


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ServiceUnavailable", 503),
        ("ServiceUnavailableException", 503),
        ("SomethingOdd", 503),
        ("ServiceUnavailable", 400),
    ],
)
def test_service_unavailable_and_any_other_503_mean_the_region_is_unreachable(code, status):
    for kind in ("change", "read", "delete"):
        assert classify(client_error(code, status=status), kind) is UNREACHABLE


@pytest.mark.parametrize(("code", "status"), [("RequestLimitExceeded", 503), ("SlowDown", 503)])
def test_a_503_that_asks_to_slow_down_is_throttling_not_an_unreachable_region(code, status):
    assert classify(client_error(code, status=status)) is RETRY


def test_an_unreachable_region_is_worth_waiting_for_like_a_retryable_error_and_the_others_are_not():
    assert [c for c in ErrorClass if c.retryable] == [RETRY, UNREACHABLE]


@pytest.mark.parametrize(
    "error",
    [
        bx.EndpointConnectionError(endpoint_url="https://drs.us-east-1.amazonaws.com"),
        bx.ConnectTimeoutError(endpoint_url="https://drs.us-east-1.amazonaws.com"),
        bx.ReadTimeoutError(endpoint_url="https://drs.us-east-1.amazonaws.com"),
        bx.ConnectionClosedError(endpoint_url="https://drs.us-east-1.amazonaws.com"),
        ConnectionResetError("reset by peer"),
        TimeoutError("timed out"),
    ],
)
def test_connection_problems_and_timeouts_mean_the_region_is_unreachable(error):
    assert classify(error) is UNREACHABLE
    assert classify(error, "read") is UNREACHABLE


@pytest.mark.parametrize(
    "error",
    [
        bx.ProxyConnectionError(proxy_url="http://proxy:3128"),
        bx.IncompleteReadError(actual_bytes=1, expected_bytes=2),
        bx.ResponseStreamingError(error="cut short"),
    ],
)
def test_a_proxy_failure_or_a_response_cut_short_is_retryable_not_an_unreachable_region(error):
    assert classify(error) is RETRY


def test_a_tls_error_is_fatal_because_waiting_does_not_fix_a_certificate():
    assert classify(bx.SSLError(endpoint_url="https://x", error="bad cert")) is FATAL


@pytest.mark.parametrize(
    "code",
    ["ResourceNotFoundException", "NoSuchHealthCheck", "DBClusterNotFoundFault", "ServiceNotFoundException"],
)
def test_not_found_on_a_delete_means_done_already(code):
    assert classify(client_error(code, status=404), "delete") is DONE


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "DBClusterNotFoundFault", "NoSuchHostedZone"])
def test_not_found_on_a_change_or_a_read_is_fatal(code):
    assert classify(client_error(code, status=404)) is FATAL
    assert classify(client_error(code, status=404), "read") is FATAL


@pytest.mark.parametrize(
    "code",
    [
        "AccessDenied",
        "AccessDeniedException",
        "ValidationException",
        "ConflictException",
        "ServiceQuotaExceededException",
        "LimitExceededException",
        "InvalidDBClusterStateFault",
        "ResourceInUseException",
        "InvalidParameterValue",
        "UnrecognizedClientException",
    ],
)
def test_everything_else_is_fatal_including_state_conflicts(code):
    assert classify(client_error(code)) is FATAL
    assert classify(client_error(code), "delete") is FATAL


def test_caller_supplied_codes_mean_done_already():
    error = client_error("InvalidDBClusterStateFault", "Cluster is already the writer")
    assert classify(error, done_already_codes={"InvalidDBClusterStateFault"}) is DONE
    assert classify(error) is FATAL


def test_caller_supplied_codes_win_over_throttling_only_when_named():
    assert classify(client_error("ThrottlingException"), done_already_codes=["ConflictException"]) is RETRY


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad"),
        KeyError("x"),
        bx.NoCredentialsError(),
        bx.ParamValidationError(report="missing sourceServerIDs"),
        RuntimeError(""),
    ],
)
def test_non_aws_and_local_botocore_errors_are_fatal(error):
    assert classify(error) is FATAL


def test_a_client_error_without_a_code_is_fatal():
    assert classify(bx.ClientError({}, "DescribeJobs")) is FATAL  # type: ignore[arg-type]


def test_an_unknown_operation_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="operation_kind"):
        classify(client_error("Throttling"), "terminate")


def test_is_not_found_recognises_service_specific_not_found_codes():
    assert is_not_found(client_error("InvalidInstanceID.NotFound"))
    assert is_not_found(client_error("GlobalClusterNotFoundFault"))
    assert is_not_found(client_error("NoSuchEntity"))
    assert is_not_found(client_error("FunctionNotFoundException"))
    assert not is_not_found(client_error("NotAuthorized"))
    assert not is_not_found(ValueError("ResourceNotFoundException"))


def test_error_code_and_http_status_read_the_response():
    error = client_error("ThrottlingException", status=400)
    assert error_code(error) == "ThrottlingException"
    assert http_status(error) == 400
    assert error_code(ValueError()) is None
    assert http_status(ValueError()) is None


def test_describe_gives_code_message_operation_and_status_on_one_line():
    error = client_error("ThrottlingException", "Rate exceeded", status=400, operation="StartRecovery")
    assert describe(error) == "ThrottlingException: Rate exceeded (StartRecovery, HTTP 400)"


def test_describe_flattens_multi_line_messages():
    error = client_error("ValidationException", "line one\n  line two", operation="UpdateService")
    assert describe(error) == "ValidationException: line one line two (UpdateService, HTTP 400)"


def test_describe_copes_with_an_empty_response():
    assert describe(bx.ClientError({}, "DescribeJobs")) == "UnknownError: no message (DescribeJobs)"  # type: ignore[arg-type]


def test_describe_names_the_type_of_other_exceptions():
    assert describe(bx.EndpointConnectionError(endpoint_url="http://localhost:1")) == (
        'EndpointConnectionError: Could not connect to the endpoint URL: "http://localhost:1"'
    )
    assert describe(RuntimeError()) == "RuntimeError"
    assert describe(ValueError("bad\nvalue")) == "ValueError: bad value"


@pytest.mark.parametrize(
    ("status", "code", "exception", "outcome"),
    [
        (200, None, None, "ok"),
        (400, "ThrottlingException", None, "throttled"),
        (429, None, None, "throttled"),
        (400, "ValidationException", None, "client_error"),
        (503, "ServiceUnavailable", None, "server_error"),
        (None, None, ConnectionError("refused"), "connection_error"),
    ],
)
def test_each_attempt_has_one_countable_outcome(status, code, exception, outcome):
    assert call_outcome(status, code, exception) == outcome
