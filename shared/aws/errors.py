"""The one place AWS errors are sorted (cloud-custodian style): done already, retryable, Region
unreachable or fatal.

Adapters call :func:`classify` on whatever a boto3 call raised and act on the class:

* ``DONE_ALREADY`` — the call failed but the world is already as we wanted; record success.
* ``RETRYABLE`` — throttling, other 5xx, 429, a response cut short; poll/retry later (until the
  wave's deadline, not a retry count). botocore's ``standard`` retries have already retried the
  call a few times by the time an error gets here.
* ``REGION_UNREACHABLE`` — the Region's endpoint does not answer: connection refused or dropped,
  connect/read timeouts, ``ServiceUnavailable`` (HTTP 503) — after botocore's retries. Also worth
  waiting for (:attr:`ErrorClass.retryable`), but an adapter that can go around the Region (an
  Aurora global failover from the secondary) acts on it instead.
* ``FATAL`` — everything else: record the failure with :func:`describe`.

Done-already is deliberately narrow. The only generic rule is that "not found" answers a
*delete*-like call (terminate, delete, cleanup, revert): ``classify(err, "delete")``. Any
service-specific "already in the desired state" code (e.g. an Aurora switchover whose target is
already the writer) is the adapter's knowledge, passed in as ``done_already_codes=`` at its call site.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from botocore import exceptions as botocore_exceptions

OPERATION_KINDS = frozenset({"change", "delete", "read"})

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
"""Codes that mean "slow down and call again". ``LimitExceededException`` is *not* here: most
services use it for hard quotas, which do not heal by waiting."""

UNAVAILABLE_CODES = frozenset({"ServiceUnavailable", "ServiceUnavailableException"})
"""Codes of an endpoint that does not serve at all (HTTP 503): the Region is unreachable."""

TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "InternalServiceError",
        "InternalServiceException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
"""Server-side hiccups."""

NOT_FOUND_CODES = frozenset(
    {
        "NotFound",
        "NotFoundException",
        "ResourceNotFound",
        "ResourceNotFoundException",
        "ResourceNotFoundFault",
        "InvalidDocument",  # SSM: the document does not exist
        "NoSuchEntity",
        "NoSuchHostedZone",
        "NoSuchHealthCheck",
        "DBClusterNotFoundFault",
        "DBInstanceNotFound",
        "DBInstanceNotFoundFault",
        "GlobalClusterNotFoundFault",
        "DBClusterSnapshotNotFoundFault",
        "ClusterNotFoundException",
        "ServiceNotFoundException",
        "InvalidInstanceID.NotFound",
    }
)
"""Codes that mean "no such thing" (plus any code ending in ``NotFound``, ``NotFoundException``,
``NotFoundFault`` or starting with ``NoSuch``, see :func:`is_not_found`)."""

_UNREACHABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    botocore_exceptions.EndpointConnectionError,
    botocore_exceptions.ConnectTimeoutError,
    botocore_exceptions.ReadTimeoutError,
    botocore_exceptions.ConnectionClosedError,
    ConnectionError,  # the builtin, for anything that slipped past botocore's wrapping
    TimeoutError,
)
"""No answer from the endpoint at all (ProxyConnectionError is ours, not the Region's: retryable)."""

_RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    botocore_exceptions.ProxyConnectionError,
    botocore_exceptions.ResponseStreamingError,
    botocore_exceptions.IncompleteReadError,
)
# botocore.exceptions.SSLError is a ConnectionError subclass on botocore's side but is FATAL here:
# a certificate or TLS misconfiguration does not heal by waiting.


class ErrorClass(enum.Enum):
    DONE_ALREADY = "done_already"
    RETRYABLE = "retryable"
    REGION_UNREACHABLE = "region_unreachable"
    FATAL = "fatal"

    @property
    def retryable(self) -> bool:
        """Whether waiting may heal it: a retryable error or an unreachable Region."""
        return self in (ErrorClass.RETRYABLE, ErrorClass.REGION_UNREACHABLE)


def classify(
    error: BaseException,
    operation_kind: str = "change",
    *,
    done_already_codes: Iterable[str] = (),
) -> ErrorClass:
    """Sort an exception raised by a boto3 call.

    ``operation_kind`` is ``"change"`` (start, update, failover…: the default), ``"read"`` (describe,
    list) or ``"delete"`` (terminate, delete, cleanup, revert: "not found" means done already).
    ``done_already_codes`` adds the caller's own "already in the desired state" error codes.
    Checked in this order: caller's codes, not-found on delete, throttling codes, ``ServiceUnavailable``
    and other HTTP 503s (Region unreachable), transient codes and HTTP 429/5xx, connection errors and
    timeouts (Region unreachable); anything else (including non-AWS exceptions) is FATAL.
    """
    if operation_kind not in OPERATION_KINDS:
        raise ValueError(f"operation_kind must be one of {sorted(OPERATION_KINDS)}, not {operation_kind!r}")
    if isinstance(error, botocore_exceptions.ClientError):
        code = error_code(error) or ""
        if code and code in frozenset(done_already_codes):
            return ErrorClass.DONE_ALREADY
        if operation_kind == "delete" and is_not_found(error):
            return ErrorClass.DONE_ALREADY
        if code in THROTTLING_CODES:  # EC2's 503 RequestLimitExceeded, S3's 503 SlowDown: the Region answers
            return ErrorClass.RETRYABLE
        status = http_status(error)
        if code in UNAVAILABLE_CODES or status == 503:
            return ErrorClass.REGION_UNREACHABLE
        if code in TRANSIENT_CODES or (status is not None and (status == 429 or status >= 500)):
            return ErrorClass.RETRYABLE
        return ErrorClass.FATAL
    if isinstance(error, botocore_exceptions.SSLError):
        return ErrorClass.FATAL
    if isinstance(error, _RETRYABLE_EXCEPTIONS):
        return ErrorClass.RETRYABLE
    if isinstance(error, _UNREACHABLE_EXCEPTIONS):
        return ErrorClass.REGION_UNREACHABLE
    return ErrorClass.FATAL


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a ``ClientError`` (``"ThrottlingException"``), else ``None``."""
    if not isinstance(error, botocore_exceptions.ClientError):
        return None
    code = (error.response or {}).get("Error", {}).get("Code")
    return str(code) if code not in (None, "") else None


def http_status(error: BaseException) -> int | None:
    """The HTTP status of a ``ClientError``'s response, when botocore recorded one."""
    if not isinstance(error, botocore_exceptions.ClientError):
        return None
    status = (error.response or {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def is_not_found(error: BaseException) -> bool:
    """Whether a ``ClientError`` says the target does not exist."""
    code = error_code(error)
    if code is None:
        return False
    return (
        code in NOT_FOUND_CODES
        or code.endswith(("NotFound", "NotFoundException", "NotFoundFault"))
        or code.startswith("NoSuch")
    )


def describe(error: BaseException) -> str:
    """One human line: ``"ThrottlingException: Rate exceeded (StartRecovery, HTTP 400)"``.

    For non-AWS exceptions: ``"<ExceptionType>: <text>"``. Newlines are flattened.
    """
    if isinstance(error, botocore_exceptions.ClientError):
        details = (error.response or {}).get("Error", {})
        code = error_code(error) or "UnknownError"
        message = str(details.get("Message") or "").strip() or "no message"
        context = [c for c in (getattr(error, "operation_name", None),) if c]
        status = http_status(error)
        if status is not None:
            context.append(f"HTTP {status}")
        line = f"{code}: {message}" + (f" ({', '.join(context)})" if context else "")
    else:
        text = str(error).strip()
        line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return " ".join(line.split())


CALL_OUTCOMES = ("ok", "throttled", "client_error", "server_error", "connection_error")


def call_outcome(status: int | None, code: str | None, exception: BaseException | None) -> str:
    """The outcome of one HTTP attempt of an AWS call, for counting: ``ok``, ``throttled`` (a throttling
    code or HTTP 429), ``client_error`` (other 4xx), ``server_error`` (5xx) or ``connection_error`` (no
    response at all)."""
    if exception is not None or status is None:
        return "connection_error"
    if (code and code in THROTTLING_CODES) or status == 429:
        return "throttled"
    if status >= 500:
        return "server_error"
    if status >= 400 or code:
        return "client_error"
    return "ok"
