"""The DRS REST (restJson) routes: parse the request, call ``drs_model``, answer as DRS does.

Paths are those of botocore's ``drs/2020-02-26`` model: ``POST /StartRecovery``,
``POST /DescribeJobs``, …, and ``GET|POST|DELETE /tags/{resourceArn}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from deploy.localaws.awscall import AwsCall
from deploy.localaws.drs_launch import launch_configuration, update_launch_configuration
from deploy.localaws.drs_model import DrsRegion, DrsStore
from deploy.localaws.drs_records import not_found, string_list, validation_error
from deploy.localaws.errors import AwsError, json_response

Handler = Callable[[DrsRegion, dict[str, Any], "DrsContext"], Response]


class DrsContext:
    """What a handler needs beyond the request body: the store (for cross-region work) and timing."""

    def __init__(self, store: DrsStore, account_id: str, step_seconds: float) -> None:
        self.store = store
        self.account_id = account_id
        self.step_seconds = step_seconds


def _filters(body: dict[str, Any]) -> dict[str, Any]:
    filters = body.get("filters") or {}
    if not isinstance(filters, dict):
        raise validation_error("filters must be an object", "fieldValidationFailed")
    return filters


def _describe_source_servers(drs: DrsRegion, body: dict[str, Any], ctx: DrsContext) -> Response:
    return json_response(
        drs.describe_source_servers(_filters(body), body.get("maxResults"), body.get("nextToken"))
    )


def _start_recovery(drs: DrsRegion, body: dict[str, Any], ctx: DrsContext) -> Response:
    is_drill = body.get("isDrill", False) is True
    job = drs.start_recovery(body.get("sourceServers"), is_drill, body.get("tags"), ctx.step_seconds)
    return json_response({"job": job.view(drs.clock())}, status=202)


def _describe_jobs(drs: DrsRegion, body: dict[str, Any], ctx: DrsContext) -> Response:
    return json_response(drs.describe_jobs(_filters(body), body.get("maxResults"), body.get("nextToken")))


def _describe_job_log_items(drs: DrsRegion, body: dict[str, Any], ctx: DrsContext) -> Response:
    result = drs.describe_job_log_items(body.get("jobID"), body.get("maxResults"), body.get("nextToken"))
    return json_response(result)


def _describe_recovery_instances(drs: DrsRegion, body: dict[str, Any], ctx: DrsContext) -> Response:
    result = drs.describe_recovery_instances(_filters(body), body.get("maxResults"), body.get("nextToken"))
    return json_response(result)


def _terminate_recovery_instances(drs: DrsRegion, body: dict[str, Any], ctx: DrsContext) -> Response:
    job = drs.terminate_recovery_instances(body.get("recoveryInstanceIDs"), ctx.step_seconds)
    return json_response({"job": job.view(drs.clock())})


def _reverse_replication(drs: DrsRegion, body: dict[str, Any], ctx: DrsContext) -> Response:
    instance_id = body.get("recoveryInstanceID")
    instance = drs.instances.get(instance_id) if isinstance(instance_id, str) else None
    origin = None
    if instance is not None and instance.origin_region and instance.origin_region != drs.region:
        origin = ctx.store.region(ctx.account_id, instance.origin_region)
    arn = drs.reverse_replication(instance_id, origin)
    return json_response({"reversedDirectionSourceServerArn": arn})


def _get_launch_configuration(drs: DrsRegion, body: dict[str, Any], ctx: DrsContext) -> Response:
    sid = body.get("sourceServerID")
    server = drs.servers.get(sid) if isinstance(sid, str) else None
    if server is None:
        raise not_found(str(sid), "SOURCE_SERVER")
    return json_response(launch_configuration(drs.account_id, drs.region, server))


def _update_launch_configuration(drs: DrsRegion, body: dict[str, Any], ctx: DrsContext) -> Response:
    return json_response(update_launch_configuration(drs.account_id, drs.region, drs.servers, body))


ROUTES: dict[str, Handler] = {
    "DescribeSourceServers": _describe_source_servers,
    "StartRecovery": _start_recovery,
    "DescribeJobs": _describe_jobs,
    "DescribeJobLogItems": _describe_job_log_items,
    "DescribeRecoveryInstances": _describe_recovery_instances,
    "TerminateRecoveryInstances": _terminate_recovery_instances,
    "ReverseReplication": _reverse_replication,
    "GetLaunchConfiguration": _get_launch_configuration,
    "UpdateLaunchConfiguration": _update_launch_configuration,
}


def _tags(drs: DrsRegion, call: AwsCall, body: dict[str, Any]) -> Response:
    arn = unquote(call.raw_path.split("/tags/", 1)[1])
    if call.method == "GET":
        return json_response({"tags": drs.list_tags(arn)})
    if call.method == "POST":
        drs.tag(arn, body.get("tags"))
        return json_response({})
    if call.method == "DELETE":
        drs.untag(arn, string_list(call.query.get("tagKeys"), "tagKeys"))
        return json_response({})
    raise AwsError("ValidationException", f"Unsupported method {call.method} on /tags", 400)


def handle(call: AwsCall, store: DrsStore, account_id: str, step_seconds: float) -> Response:
    """Serve one DRS call; raises :class:`AwsError` for DRS errors."""
    body: dict[str, Any] = {}
    if call.body:
        try:
            parsed = json.loads(call.body)
        except ValueError as exc:
            raise validation_error("The request body is not valid JSON", "cannotParse") from exc
        if not isinstance(parsed, dict):
            raise validation_error("The request body must be a JSON object", "cannotParse")
        body = parsed
    drs = store.region(account_id, call.region)
    drs.settle()
    if call.raw_path.startswith("/tags/"):
        return _tags(drs, call, body)
    handler = ROUTES.get(call.operation)
    if handler is None:
        raise AwsError(
            "NotImplemented",
            f"localaws does not emulate drs:{call.operation} ({call.method} {call.path})",
            501,
        )
    return handler(drs, body, DrsContext(store, account_id, step_seconds))
