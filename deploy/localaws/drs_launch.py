"""DRS launch configurations, emulated: one per source server, each with its EC2 launch template in moto.

DRS keeps a launch configuration per source server (``GetLaunchConfiguration`` /
``UpdateLaunchConfiguration``) and an EC2 launch template it launches recovery instances from; the
template is an ordinary EC2 resource, so it lives in moto's EC2 backend of the same account and region
and is read and versioned through boto3's ``ec2`` client like any other. Both are made on first use.
"""

from __future__ import annotations

from typing import Any

from deploy.localaws.drs_records import SourceServer, not_found, validation_error

DISPOSITIONS = frozenset({"STOPPED", "STARTED"})
RIGHT_SIZING = frozenset({"NONE", "BASIC", "IN_AWS"})
DEFAULT_INSTANCE_TYPE = "m5.large"
BOOLEAN_FIELDS = ("copyPrivateIp", "copyTags", "postLaunchEnabled")


def _launch_template(account_id: str, region: str, server: SourceServer) -> str:
    """Create the server's EC2 launch template in moto; its id."""
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account_id][region]
    name = f"drs-launch-{server.source_server_id}"
    existing = backend.launch_template_name_to_ids.get(name)
    if existing:
        return existing
    template = backend.create_launch_template(
        name, "DRS launch template", {"InstanceType": DEFAULT_INSTANCE_TYPE}, {}
    )
    return template.id


def launch_configuration(account_id: str, region: str, server: SourceServer) -> dict[str, Any]:
    """The server's launch configuration (created with DRS's defaults on first use)."""
    if server.launch_configuration is None:
        server.launch_configuration = {
            "sourceServerID": server.source_server_id,
            "name": server.hostname,
            "ec2LaunchTemplateID": _launch_template(account_id, region, server),
            "launchDisposition": "STARTED",
            "targetInstanceTypeRightSizingMethod": "BASIC",
            "copyPrivateIp": False,
            "copyTags": False,
            "licensing": {"osByol": False},
            "postLaunchEnabled": False,
        }
    return dict(server.launch_configuration)


def update_launch_configuration(
    account_id: str, region: str, servers: dict[str, SourceServer], body: dict[str, Any]
) -> dict[str, Any]:
    """Apply the fields given (as DRS does: the others stay); the updated configuration."""
    server = servers.get(body.get("sourceServerID")) if isinstance(body.get("sourceServerID"), str) else None
    if server is None:
        raise not_found(str(body.get("sourceServerID")), "SOURCE_SERVER")
    current = launch_configuration(account_id, region, server)
    disposition = body.get("launchDisposition")
    if disposition is not None and disposition not in DISPOSITIONS:
        raise validation_error(f"launchDisposition must be one of {sorted(DISPOSITIONS)}", "fieldValidationFailed")
    sizing = body.get("targetInstanceTypeRightSizingMethod")
    if sizing is not None and sizing not in RIGHT_SIZING:
        raise validation_error(
            f"targetInstanceTypeRightSizingMethod must be one of {sorted(RIGHT_SIZING)}", "fieldValidationFailed"
        )
    for name in BOOLEAN_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise validation_error(f"{name} must be a boolean", "fieldValidationFailed")
    for name in ("launchDisposition", "targetInstanceTypeRightSizingMethod", "name", *BOOLEAN_FIELDS):
        if body.get(name) is not None:
            current[name] = body[name]
    if isinstance(body.get("licensing"), dict):
        current["licensing"] = dict(body["licensing"])
    server.launch_configuration = current
    return dict(current)
