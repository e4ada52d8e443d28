"""DRS launch settings through boto3: validate against the Region, apply to each server, read back.

Applying writes each server's DRS launch configuration (``update_launch_configuration``) and, when a
template field is set, a new version of its EC2 launch template made the default
(``create_launch_template_version`` from ``$Default`` + ``modify_launch_template``). Reading back
compares the live configuration and default version with the settings (pure rules in
:mod:`shared.domain.launch_settings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.aws.discovery import AccountAccess
from shared.aws.drs_ops import DrsCallFailed, DrsOperations, call
from shared.domain import launch_settings as rules


class DrsLaunchSettings:
    def __init__(self, operations: DrsOperations) -> None:
        self.ops = operations

    def problems(
        self, access: AccountAccess, region: str, settings: Mapping[str, Any], server_ids: list[str]
    ) -> list[tuple[str, str]]:
        ec2 = self.ops.client("ec2", access, region)
        cidr = None
        found: list[tuple[str, str]] = []
        if settings.get("subnetId"):
            try:
                subnets = call(lambda: ec2.describe_subnets(SubnetIds=[settings["subnetId"]]), "ec2.describe_subnets")
                cidr = subnets["Subnets"][0]["CidrBlock"]
            except DrsCallFailed as failure:
                if failure.retryable:
                    raise
                found.append(("launchSettings.subnetId", f"subnet {settings['subnetId']} not found in {region}"))
        offered = None
        if settings.get("instanceType"):
            answer = call(
                lambda: ec2.describe_instance_type_offerings(
                    LocationType="region",
                    Filters=[{"Name": "instance-type", "Values": [settings["instanceType"]]}],
                ),
                "ec2.describe_instance_type_offerings",
            )
            offered = bool(answer.get("InstanceTypeOfferings"))
        return found + rules.problems(settings, server_ids, cidr, offered)

    def apply(self, access: AccountAccess, region: str, settings: Mapping[str, Any], server_id: str) -> dict[str, Any]:
        """Write one server's settings; ``{"status": "applied", "templateVersion"?}``."""
        drs = self.ops.client("drs", access, region)
        update = rules.configuration_update(settings)
        configuration = call(
            lambda: (
                drs.update_launch_configuration(sourceServerID=server_id, **update)
                if update
                else drs.get_launch_configuration(sourceServerID=server_id)
            ),
            "drs.update_launch_configuration",
        )
        result: dict[str, Any] = {"status": "applied"}
        if rules.touches_template(settings):
            ec2 = self.ops.client("ec2", access, region)
            template_id = configuration["ec2LaunchTemplateID"]
            current = self._default_version(ec2, template_id)
            data = rules.template_data(settings, server_id, current.get("LaunchTemplateData") or {})
            version = call(
                lambda: ec2.create_launch_template_version(
                    LaunchTemplateId=template_id,
                    SourceVersion=str(current["VersionNumber"]),
                    VersionDescription="drwave launch settings",
                    LaunchTemplateData=data,
                ),
                "ec2.create_launch_template_version",
            )["LaunchTemplateVersion"]["VersionNumber"]
            call(
                lambda: ec2.modify_launch_template(LaunchTemplateId=template_id, DefaultVersion=str(version)),
                "ec2.modify_launch_template",
            )
            result["template_version"] = version
        return result

    def state(self, access: AccountAccess, region: str, settings: Mapping[str, Any], server_id: str) -> dict[str, Any]:
        """``applied`` or ``drifted`` (with the fields) for one server, as DRS and EC2 report it now."""
        drs = self.ops.client("drs", access, region)
        configuration = call(
            lambda: drs.get_launch_configuration(sourceServerID=server_id), "drs.get_launch_configuration"
        )
        template: dict[str, Any] = {}
        if rules.touches_template(settings):
            ec2 = self.ops.client("ec2", access, region)
            template = self._default_version(ec2, configuration["ec2LaunchTemplateID"]).get("LaunchTemplateData") or {}
        drifted = rules.drifted_fields(settings, server_id, configuration, template)
        view: dict[str, Any] = {"status": "drifted" if drifted else "applied"}
        if drifted:
            view["drifted_fields"] = drifted
        return view

    @staticmethod
    def _default_version(ec2: Any, template_id: str) -> dict[str, Any]:
        versions = call(
            lambda: ec2.describe_launch_template_versions(LaunchTemplateId=template_id, Versions=["$Default"]),
            "ec2.describe_launch_template_versions",
        )["LaunchTemplateVersions"]
        return versions[0]
