"""AWS-shaped responses: errors in each protocol's wire format, and plain JSON bodies.

botocore reads the error code from ``__type``/``x-amzn-ErrorType`` (JSON protocols), from
``<Error><Code>`` (query, rest-xml) or ``<Errors><Error><Code>`` (EC2), so each protocol gets its
own shape; a ``ClientError`` then carries the right ``Error.Code`` and HTTP status.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

from deploy.localaws.awscall import AwsCall, service_metadata


class AwsError(Exception):
    """An error our emulators answer with, e.g. ``AwsError("ConflictException", "…", 409)``."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        sender: bool = True,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}
        self.headers = headers or {}
        self.sender = sender


def request_id() -> str:
    return str(uuid.uuid4())


def json_response(payload: Any, status: int = 200, *, content_type: str = "application/json") -> Response:
    headers = {"x-amzn-RequestId": request_id()}
    return Response(json.dumps(payload), status=status, headers=headers, content_type=content_type)


def error_response(call: AwsCall, error: AwsError) -> Response:
    """Render ``error`` in the wire format of ``call``'s protocol."""
    rid = request_id()
    headers = {"x-amzn-RequestId": rid, **error.headers}
    if call.protocol in ("json", "rest-json", ""):
        body: dict[str, Any] = {"__type": error.code, "message": error.message, **error.fields}
        headers["x-amzn-ErrorType"] = error.code
        content_type = "application/x-amz-json-1.1" if call.protocol == "json" else "application/json"
        return Response(json.dumps(body), status=error.status, headers=headers, content_type=content_type)
    message, code = escape(error.message), escape(error.code)
    if call.protocol == "ec2":
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{rid}</RequestID></Response>"
        )
    else:  # query, rest-xml
        namespace = service_metadata(call.service).get("xmlNamespace") or ""
        if call.protocol == "rest-xml" and not namespace:
            version = service_metadata(call.service).get("apiVersion", "")
            namespace = f"https://{call.signing_name}.amazonaws.com/doc/{version}/"
        xmlns = f' xmlns="{escape(namespace)}"' if namespace else ""
        kind = "Sender" if error.sender else "Receiver"
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse{xmlns}><Error><Type>{kind}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
        )
    return Response(xml, status=error.status, headers=headers, content_type="text/xml")


# Throttling as each service really answers it: (code, HTTP status).
_THROTTLE_BY_SERVICE = {
    "ec2": ("RequestLimitExceeded", 503),
    "lambda": ("TooManyRequestsException", 429),
}


def throttling_error(call: AwsCall) -> AwsError:
    """The throttling error ``call``'s service answers with.

    Query and XML services (RDS, STS, SNS, Route 53): HTTP 400 ``Throttling``. JSON services (DRS,
    ECS, Tagging, EventBridge): HTTP 429 ``ThrottlingException``. EC2: 503 ``RequestLimitExceeded``;
    Lambda: 429 ``TooManyRequestsException`` — what those two services send in real life.
    """
    if call.service in _THROTTLE_BY_SERVICE:
        code, status = _THROTTLE_BY_SERVICE[call.service]
    elif call.protocol in ("query", "rest-xml"):
        code, status = "Throttling", 400
    else:
        code, status = "ThrottlingException", 429
    fields: dict[str, Any] = {}
    if call.service == "drs":
        fields = {"serviceCode": "drs", "quotaCode": "localaws-injected", "retryAfterSeconds": "1"}
    elif call.service == "lambda":
        fields = {"Type": "User", "Reason": "CallerRateLimitExceeded"}
    return AwsError(code, "Rate exceeded", status, fields=fields, headers={"Retry-After": "1"})


def unavailable_error(call: AwsCall) -> AwsError:
    """What an unreachable Region's endpoint answers: HTTP 503 ``ServiceUnavailable`` (JSON services:
    ``ServiceUnavailableException``), a server-side error that botocore retries."""
    code = "ServiceUnavailableException" if call.protocol in ("json", "rest-json") else "ServiceUnavailable"
    return AwsError(code, f"Service unavailable in {call.region} (localaws outage)", 503, sender=False)


def internal_error(call: AwsCall | None, exc: BaseException) -> Response:
    """A 500 for a bug in our own emulation: the server thread survives, the client sees why."""
    body = {"__type": "InternalFailure", "message": f"localaws internal error: {type(exc).__name__}: {exc}"}
    headers = {"x-amzn-RequestId": request_id(), "x-amzn-ErrorType": "InternalFailure"}
    if call is not None and call.protocol not in ("json", "rest-json", ""):
        return error_response(call, AwsError("InternalFailure", body["message"], 500, sender=False))
    return Response(json.dumps(body), status=500, headers=headers, content_type="application/json")
