"""Recognise an AWS API call from its WSGI environ: service, region, operation, protocol.

The service and region come from the SigV4 credential scope (``…/<region>/<service>/aws4_request``),
the operation from ``X-Amz-Target`` (JSON protocols), the ``Action`` parameter (query/EC2) or the
REST route in botocore's service model (rest-json, rest-xml). The body is read once and put back,
so moto can read it again.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from deploy.localaws.accounts import access_key_of

# Signing names whose boto3 client name differs.
CLIENT_NAME_BY_SIGNING_NAME = {
    "tagging": "resourcegroupstaggingapi",
    "monitoring": "cloudwatch",
    "email": "ses",
    "states": "stepfunctions",
    "execute-api": "apigateway",
}

UNKNOWN_OPERATION = "Unknown"


@dataclass
class AwsCall:
    service: str  # the boto3 client name: "drs", "rds", "resourcegroupstaggingapi", …
    signing_name: str  # the credential-scope service: "drs", "rds", "tagging", …
    region: str
    operation: str
    protocol: str  # botocore protocol: json, query, ec2, rest-json, rest-xml (or "" if unknown)
    access_key: str | None
    method: str
    path: str  # decoded PATH_INFO
    raw_path: str  # percent-encoded path as sent (ARNs in URIs keep their %2F)
    query: dict[str, list[str]]
    body: bytes
    params: dict[str, list[str]] = field(default_factory=dict)  # query-protocol form parameters

    @property
    def key(self) -> str:
        return f"{self.service}:{self.operation}"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.service, self.signing_name)

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put an identical stream back into ``environ``."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:  # no body, or a chunked one: leave the stream alone for moto
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def identify(environ: dict[str, Any]) -> AwsCall | None:
    """The AWS call this request makes, or ``None`` when it is not a SigV4-signed AWS call."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    scope = _SCOPE.search(authorization)
    if not scope:
        return None
    region, signing_name = scope.group(1), scope.group(2).lower()
    service = CLIENT_NAME_BY_SIGNING_NAME.get(signing_name, signing_name)
    body = read_body(environ)
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "") or "/"
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    raw_path = raw_uri.split("?", 1)[0] if raw_uri else path
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    protocol = protocol_of(service)
    params: dict[str, list[str]] = {}
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    content_type = environ.get("CONTENT_TYPE", "")
    if target:
        operation = target.rsplit(".", 1)[-1]
    elif protocol in ("query", "ec2") or "x-www-form-urlencoded" in content_type:
        params = dict(query)
        if body and "x-www-form-urlencoded" in content_type:
            params.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
        operation = (params.get("Action") or [UNKNOWN_OPERATION])[0]
    elif protocol.startswith("rest"):
        router = rest_router(service)
        operation = router.match(method, raw_path, query) if router else UNKNOWN_OPERATION
    else:
        operation = UNKNOWN_OPERATION
    return AwsCall(
        service=service,
        signing_name=signing_name,
        region=region,
        operation=operation,
        protocol=protocol,
        access_key=access_key_of(authorization),
        method=method,
        path=path,
        raw_path=raw_path,
        query=query,
        body=body,
        params=params,
    )


@functools.cache
def _service_model(service: str) -> Any:
    import botocore.session

    try:
        return botocore.session.get_session().get_service_model(service)
    except Exception:  # unknown to botocore: count it as Unknown, let moto answer
        return None


def protocol_of(service: str) -> str:
    model = _service_model(service)
    return str(model.protocol) if model is not None else ""


def service_metadata(service: str) -> dict[str, Any]:
    model = _service_model(service)
    return dict(model.metadata) if model is not None else {}


class RestRouter:
    """Maps (method, path, query) to an operation name using the service model's ``requestUri``s."""

    def __init__(self, model: Any) -> None:
        self._routes: list[tuple[str, re.Pattern[str], dict[str, str | None], tuple[int, int], str]] = []
        for name in model.operation_names:
            http = model.operation_model(name).http
            path, _, query = http.get("requestUri", "/").partition("?")
            required = {}
            for item in filter(None, query.split("&")):
                key, sep, value = item.partition("=")
                required[key] = value if sep else None
            literal = len(re.sub(r"\{[^}]*\}", "", path))
            score = (len(required), literal)
            self._routes.append((http.get("method", "GET"), self._compile(path), required, score, name))

    @staticmethod
    def _compile(path: str) -> re.Pattern[str]:
        pattern = ""
        for piece in re.split(r"(\{[^}]+\})", path.rstrip("/")):
            if piece.startswith("{"):
                pattern += ".+" if piece.endswith("+}") else "[^/]+"
            else:
                pattern += re.escape(piece)
        return re.compile(f"^{pattern}/?$")

    def match(self, method: str, path: str, query: dict[str, list[str]]) -> str:
        best: tuple[tuple[int, int], str] | None = None
        for route_method, pattern, required, score, name in self._routes:
            if route_method != method or not pattern.match(path):
                continue
            if any(k not in query or (v is not None and v not in query[k]) for k, v in required.items()):
                continue
            if best is None or score > best[0]:
                best = (score, name)
        return best[1] if best else UNKNOWN_OPERATION


@functools.cache
def rest_router(service: str) -> RestRouter | None:
    model = _service_model(service)
    return RestRouter(model) if model is not None else None
