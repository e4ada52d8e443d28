"""DRS launch settings of a protection group (pure): what to write, whether it holds, whether it is valid.

A group's ``launchSettings`` say how DRS launches its source servers. Four of them live in each
server's DRS launch configuration (``launchDisposition``, ``targetInstanceTypeRightSizingMethod``,
``copyPrivateIp``, ``copyTags``); the others in the EC2 launch template DRS launches from
(``instanceType``, and the first network interface's ``subnetId``, ``securityGroupIds`` and the
server's ``staticPrivateIps`` entry).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

RIGHT_SIZING_NONE = "NONE"
"""The only ``targetInstanceTypeRightSizingMethod`` under which DRS launches the template's instance type:
with BASIC or IN_AWS it picks the type itself and a set ``instanceType`` would be silently overridden."""
CONFIGURATION_FIELDS = ("launchDisposition", "targetInstanceTypeRightSizingMethod", "copyPrivateIp", "copyTags")
TEMPLATE_FIELDS = ("instanceType", "subnetId", "securityGroupIds", "staticPrivateIps")


def configuration_update(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The ``update_launch_configuration`` arguments (besides ``sourceServerID``)."""
    return {name: settings[name] for name in CONFIGURATION_FIELDS if settings.get(name) is not None}


def touches_template(settings: Mapping[str, Any]) -> bool:
    return any(settings.get(name) for name in TEMPLATE_FIELDS)


def template_data(settings: Mapping[str, Any], server_id: str, current: Mapping[str, Any]) -> dict[str, Any]:
    """``LaunchTemplateData`` of the new default version for one server, from its current default."""
    data: dict[str, Any] = {}
    if settings.get("instanceType"):
        data["InstanceType"] = settings["instanceType"]
    ip = (settings.get("staticPrivateIps") or {}).get(server_id)
    if settings.get("subnetId") or settings.get("securityGroupIds") or ip:
        interfaces = current.get("NetworkInterfaces") or [{}]
        interface: dict[str, Any] = {**interfaces[0], "DeviceIndex": 0}
        if settings.get("subnetId"):
            interface["SubnetId"] = settings["subnetId"]
        if settings.get("securityGroupIds"):
            interface["Groups"] = list(settings["securityGroupIds"])
        if ip:
            interface["PrivateIpAddress"] = ip
        data["NetworkInterfaces"] = [interface]
    return data


def drifted_fields(
    settings: Mapping[str, Any], server_id: str, configuration: Mapping[str, Any], template: Mapping[str, Any]
) -> list[str]:
    """The settings a server's live launch configuration and default template version do not match."""
    drifted = [
        name
        for name in CONFIGURATION_FIELDS
        if settings.get(name) is not None and configuration.get(name) != settings[name]
    ]
    interface = (template.get("NetworkInterfaces") or [{}])[0]
    if settings.get("instanceType") and template.get("InstanceType") != settings["instanceType"]:
        drifted.append("instanceType")
    if settings.get("subnetId") and interface.get("SubnetId") != settings["subnetId"]:
        drifted.append("subnetId")
    if settings.get("securityGroupIds") and sorted(interface.get("Groups") or []) != sorted(
        settings["securityGroupIds"]
    ):
        drifted.append("securityGroupIds")
    ip = (settings.get("staticPrivateIps") or {}).get(server_id)
    if ip and interface.get("PrivateIpAddress") != ip:
        drifted.append(f"staticPrivateIps.{server_id}")
    return drifted


def problems(
    settings: Mapping[str, Any],
    server_ids: Iterable[str],
    subnet_cidr: str | None,
    instance_type_offered: bool | None,
) -> list[tuple[str, str]]:
    """``(field, problem)`` pairs refusing the settings: static IPs outside the subnet or used twice, for
    servers not in the group, without a subnet; an instance type DRS would not launch (right-sizing is not
    NONE) or the Region does not offer."""
    found: list[tuple[str, str]] = []
    ips = settings.get("staticPrivateIps") or {}
    members = set(server_ids)
    seen: dict[str, str] = {}
    network = ipaddress.ip_network(subnet_cidr) if subnet_cidr else None
    if ips and not settings.get("subnetId"):
        found.append(("launchSettings.subnetId", "static private IPs need the subnet they belong to"))
    for server_id, ip in sorted(ips.items()):
        field = f"launchSettings.staticPrivateIps.{server_id}"
        if server_id not in members:
            found.append((field, f"{server_id} is not a source server of this protection group"))
        if ip in seen:
            found.append((field, f"{ip} is also given to {seen[ip]}"))
        seen.setdefault(ip, server_id)
        if network is not None and ipaddress.ip_address(ip) not in network:
            found.append((field, f"{ip} is outside subnet {settings.get('subnetId')} ({subnet_cidr})"))
    sizing = settings.get("targetInstanceTypeRightSizingMethod")
    if settings.get("instanceType") and sizing != RIGHT_SIZING_NONE:
        found.append(
            (
                "launchSettings.instanceType",
                f"an instance type needs targetInstanceTypeRightSizingMethod {RIGHT_SIZING_NONE} (it is {sizing}): "
                f"with right-sizing DRS picks the instance type itself",
            )
        )
    if settings.get("instanceType") and instance_type_offered is False:
        found.append(("launchSettings.instanceType", f"{settings['instanceType']} is not offered in this Region"))
    return found
