"""The admin API under ``/_localaws/`` (plain JSON, no auth), for tests and benchmarks.

=======================================  ==============================================================
``GET /_localaws/health``                200 ``{"status": "ok"}``
``POST /_localaws/reset``                forget all state: moto backends, DRS, Aurora operations, calls,
                                         faults (the timing config stays)
``GET /_localaws/calls``                 ``{"calls": {"drs:StartRecovery": 3, …}, "throttled": {…}}``
``POST /_localaws/calls/reset``          zero the counts
``GET /_localaws/faults``                ``{"faults": [rule, …]}``
``POST /_localaws/faults``               ``{"service": "drs", "operation": "StartRecovery" | "*",
                                         "region": "us-east-1" | "*", "throttleRate": 0.5}``, slow calls
                                         ``{…, "delaySeconds": 8, "calls": 1}``, or a Region outage
                                         ``{"service": "rds" | "*", "operation": "*",
                                         "region": "us-east-1", "outage": true}`` → 201 ``{"fault": rule}``
``DELETE /_localaws/faults``             remove every rule; with a body ``{"service", "operation",
                                         "region"}`` only that rule (404 when there is none)
``POST /_localaws/drs/source-servers``   ``{"accountId", "region", "servers": [{"hostname", "tags",
                                         "failLaunch", "replicationState", "originRegion",
                                         "awsInstanceId"}]}`` → 201
                                         ``{"servers": [{"sourceServerID", "arn", "hostname", …}]}``
``PATCH /_localaws/drs/source-servers/   ``{"accountId", "region", "replicationState": "STALLED",
{id}``                                   "lagSeconds": 900}`` → 200 (state and lag as DRS reports them)
``GET /_localaws/completions``           when emulated long operations completed (epoch seconds):
                                         ``{"drsJobs": [{"jobID", "accountId", "region",
                                         "sourceServerIDs", "completedAt"}], "auroraOperations":
                                         [{"globalClusterIdentifier", "targetArn", "completedAt"}],
                                         "ecsRollouts": [{"serviceArn", "completedAt"}]}``
``GET /_localaws/config``                the timing config
``POST /_localaws/config``               ``{"drsJobStepSeconds": 0.2, "globalClusterStepSeconds": 0.2,
                                         "ecsRolloutSeconds": 0}``
=======================================  ==============================================================

Bad input answers 400 ``{"error": {"code": "BAD_REQUEST", "message": …}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from deploy.localaws.drs_records import REPLICATION_STATES
from deploy.localaws.state import LocalAwsState

PREFIX = "/_localaws"


class BadRequest(Exception):
    pass


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")


def _error(code: str, message: str, status: int) -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def _health(state: LocalAwsState, request: Request) -> Response:
    return _json({"status": "ok"})


def _reset(state: LocalAwsState, request: Request) -> Response:
    state.reset()
    return _json({"reset": True})


def _calls(state: LocalAwsState, request: Request) -> Response:
    return _json(state.calls.snapshot())


def _calls_reset(state: LocalAwsState, request: Request) -> Response:
    state.calls.reset()
    return _json({"reset": True})


def _faults_get(state: LocalAwsState, request: Request) -> Response:
    return _json({"faults": state.faults.rules()})


def _faults_add(state: LocalAwsState, request: Request) -> Response:
    try:
        rule = state.faults.add(_body(request))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    return _json({"fault": rule.as_json()}, 201)


def _faults_clear(state: LocalAwsState, request: Request) -> Response:
    body = _body(request)
    if not body:
        state.faults.clear()
    else:
        try:
            removed = state.faults.remove(body)
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
        if not removed:
            return _error("NOT_FOUND", f"no fault rule for {body}", 404)
    return _json({"faults": state.faults.rules()})


def _completions(state: LocalAwsState, request: Request) -> Response:
    return _json(state.completions())


def _config_get(state: LocalAwsState, request: Request) -> Response:
    return _json(state.config.as_json())


def _config_set(state: LocalAwsState, request: Request) -> Response:
    try:
        state.config.update(_body(request))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    return _json(state.config.as_json())


def _source_servers(state: LocalAwsState, request: Request) -> Response:
    body = _body(request)
    account = str(body.get("accountId") or state.config.default_account)
    region = body.get("region")
    servers = body.get("servers")
    if not isinstance(region, str) or not region:
        raise BadRequest("region is required")
    if not isinstance(servers, list) or not servers:
        raise BadRequest("servers must be a non-empty list")
    created = []
    with state.lock:
        drs = state.drs.region(account, region)
        for spec in servers:
            if not isinstance(spec, dict) or not isinstance(spec.get("hostname"), str):
                raise BadRequest("each server needs a hostname")
            tags = spec.get("tags") or {}
            if not isinstance(tags, dict):
                raise BadRequest("tags must be an object of strings")
            try:
                server = drs.add_source_server(
                    hostname=spec["hostname"],
                    tags={str(k): str(v) for k, v in tags.items()},
                    fail_launch=bool(spec.get("failLaunch", False)),
                    replication_state=str(spec.get("replicationState", "CONTINUOUS")),
                    origin_region=spec.get("originRegion"),
                )
            except ValueError as exc:
                raise BadRequest(str(exc)) from exc
            if spec.get("awsInstanceId") is not None:
                server.aws_instance_id = str(spec["awsInstanceId"])
            created.append(
                {
                    "sourceServerID": server.source_server_id,
                    "arn": server.arn,
                    "hostname": server.hostname,
                    "tags": server.tags,
                    "failLaunch": server.fails(),
                    "accountId": account,
                    "region": region,
                }
            )
    return _json({"servers": created}, 201)


def _source_server_patch(state: LocalAwsState, request: Request, server_id: str) -> Response:
    """Set a server's replication state and lag, as a stalled agent or a backlog would."""
    body = _body(request)
    account = str(body.get("accountId") or state.config.default_account)
    region = body.get("region")
    if not isinstance(region, str) or not region:
        raise BadRequest("region is required")
    state_name = body.get("replicationState")
    if state_name is not None and state_name not in REPLICATION_STATES:
        raise BadRequest(f"replicationState must be one of {sorted(REPLICATION_STATES)}")
    lag = body.get("lagSeconds")
    if lag is not None and (isinstance(lag, bool) or not isinstance(lag, int) or lag < 0):
        raise BadRequest("lagSeconds must be a non-negative integer")
    with state.lock:
        server = state.drs.region(account, region).servers.get(server_id)
        if server is None:
            return _error("NOT_FOUND", f"no source server {server_id} in {account}/{region}", 404)
        if state_name is not None:
            server.replication_state = state_name
        if lag is not None:
            server.lag_seconds = lag
        view = {
            "sourceServerID": server.source_server_id,
            "replicationState": server.replication_state,
            "lagSeconds": server.lag_seconds,
        }
    return _json(view)


Handler = Callable[..., Response]

_URLS = Map(
    [
        Rule(f"{PREFIX}/health", methods=["GET"], endpoint=_health),
        Rule(f"{PREFIX}/reset", methods=["POST"], endpoint=_reset),
        Rule(f"{PREFIX}/calls", methods=["GET"], endpoint=_calls),
        Rule(f"{PREFIX}/calls/reset", methods=["POST"], endpoint=_calls_reset),
        Rule(f"{PREFIX}/faults", methods=["GET"], endpoint=_faults_get),
        Rule(f"{PREFIX}/faults", methods=["POST"], endpoint=_faults_add),
        Rule(f"{PREFIX}/faults", methods=["DELETE"], endpoint=_faults_clear),
        Rule(f"{PREFIX}/completions", methods=["GET"], endpoint=_completions),
        Rule(f"{PREFIX}/config", methods=["GET"], endpoint=_config_get),
        Rule(f"{PREFIX}/config", methods=["POST"], endpoint=_config_set),
        Rule(f"{PREFIX}/drs/source-servers", methods=["POST"], endpoint=_source_servers),
        Rule(f"{PREFIX}/drs/source-servers/<server_id>", methods=["PATCH"], endpoint=_source_server_patch),
    ],
    strict_slashes=False,
)


def handle(state: LocalAwsState, request: Request) -> Response:
    """Serve one admin request."""
    try:
        endpoint, arguments = _URLS.bind_to_environ(request.environ).match()
        return endpoint(state, request, **arguments)
    except BadRequest as exc:
        return _error("BAD_REQUEST", str(exc), 400)
    except NotFound:
        return _error("NOT_FOUND", f"no admin endpoint {request.method} {request.path}", 404)
    except MethodNotAllowed:
        return _error("METHOD_NOT_ALLOWED", f"{request.method} not allowed on {request.path}", 405)
    except HTTPException as exc:
        return _error("HTTP_ERROR", str(exc), exc.code or 400)
