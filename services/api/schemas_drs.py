"""Request and response models of DRS depth, preflight checks, RTO forecasts and readiness (camelCase)."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from .fields import ACCOUNT_ID, Region

SOURCE_SERVER_ID = re.compile(r"^s-[0-9a-f]{17}$")


class _In(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


# --- launch settings -------------------------------------------------------------------------------


class LaunchSettings(_In):
    """How DRS launches the group's source servers (written by ``POST …/launch-settings/apply``)."""

    launch_disposition: Literal["STOPPED", "STARTED"] = "STARTED"
    target_instance_type_right_sizing_method: Literal["NONE", "BASIC", "IN_AWS"] = "BASIC"
    copy_private_ip: bool = False
    copy_tags: bool = False
    instance_type: str | None = Field(default=None, pattern=r"^[a-z0-9-]+\.[a-z0-9-]+$", examples=["m5.large"])
    subnet_id: str | None = Field(default=None, pattern=r"^subnet-[0-9a-f]+$")
    security_group_ids: list[str] | None = Field(default=None, min_length=1, max_length=5)
    static_private_ips: dict[str, str] | None = Field(default=None, examples=[{"s-1234567890abcdef0": "10.0.1.5"}])

    @field_validator("security_group_ids")
    @classmethod
    def _groups(cls, groups: list[str] | None) -> list[str] | None:
        for index, group in enumerate(groups or []):
            if re.match(r"^sg-[0-9a-f]+$", group) is None:
                raise ValueError(f"item {index} ({group[:40]!r}) is not a security group id")
        return groups

    @field_validator("static_private_ips")
    @classmethod
    def _ips(cls, ips: dict[str, str] | None) -> dict[str, str] | None:
        seen: dict[str, str] = {}
        for server_id, ip in (ips or {}).items():
            if SOURCE_SERVER_ID.match(server_id) is None:
                raise ValueError(f"{server_id[:40]!r} is not a source server id (s-<17 hex>)")
            try:
                ipaddress.IPv4Address(ip)
            except ValueError:
                raise ValueError(f"{server_id}: {ip[:40]!r} is not an IPv4 address") from None
            if ip in seen:
                raise ValueError(f"{ip} is given to both {seen[ip]} and {server_id}")
            seen[ip] = server_id
        return ips

    def stored(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class ServerLaunchState(_Out):
    source_server_id: str
    arn: str
    status: Literal["applied", "drifted", "failed"]
    drifted_fields: list[str] = Field(default_factory=list)
    error: str | None = None
    template_version: int | None = None


class LaunchSettingsOut(_Out):
    message: str
    protection_group_id: str
    launch_settings: dict[str, Any] | None
    servers: list[ServerLaunchState]


# --- tag sync --------------------------------------------------------------------------------------


class TagSyncRequest(_In):
    region: Region = Field(description="the DRS Region of the source servers")
    account_id: str | None = Field(default=None, pattern=ACCOUNT_ID)
    tag_keys: list[str] | None = Field(default=None, min_length=1, max_length=50)
    dry_run: bool = False
    prune: bool = Field(default=False, description="also delete DRS tags the instance does not have")


class TagChange(_Out):
    source_server_id: str
    aws_instance_id: str
    set: dict[str, str]
    removed: list[str]


class TagSyncOut(_Out):
    message: str
    synced: int
    unchanged: int
    missing_servers: list[dict[str, Any]]
    changes: list[TagChange]


# --- recovery instances and job logs ---------------------------------------------------------------


class RunPath(BaseModel):
    id: str = Field(max_length=64)
    resource_run_id: int = Field(alias="resourceRunId", ge=1)


class ForceBody(_In):
    force: bool = False


class RecoveryInstanceOut(_Out):
    recovery_instance_id: str
    ec2_instance_id: str | None
    source_server_id: str | None
    state: str | None
    is_drill: bool
    launch_time: str | None
    job_id: str | None
    region: str


class RecoveryInstanceList(_Out):
    message: str
    items: list[RecoveryInstanceOut]


class TerminateOut(_Out):
    message: str
    terminated: list[str]
    job_ids: list[str]


class JobLogItem(_Out):
    at: str | None
    event: str | None
    event_data: dict[str, Any] = Field(default_factory=dict)


class JobLogOut(_Out):
    resource_run_id: int
    arn: str
    job_id: str | None
    items: list[JobLogItem]


# --- checks, forecast, readiness -------------------------------------------------------------------


class CheckOut(_Out):
    name: str = Field(examples=["drs.replication"])
    status: Literal["ok", "warning", "error"]
    resource_arn: str | None = None
    field: str | None = Field(default=None, description="the plan field it is about (a wave action's)")
    message: str


class WaveForecast(_Out):
    wave: int
    p50_minutes: float
    p90_minutes: float
    dominated_by: str | None = Field(description="the ARN of the resource expected to take longest")


class RtoForecast(_Out):
    p50_minutes: float
    p90_minutes: float
    target_minutes: float = Field(description="the plan's RTO target: the sum of its waves' targets")
    basis: Literal["history", "targets", "mixed"]
    runs_used: int = Field(description="past executions the forecast draws on")
    waves: list[WaveForecast]


class ReadinessOut(_Out):
    plan_id: str
    plan_name: str | None = None
    status: Literal["ready", "actionRequired", "notEvaluated"]
    evaluated_at: datetime | None = None
    checks: list[CheckOut] = Field(default_factory=list)
    rto_forecast: RtoForecast | None = None
    changes: list[dict[str, Any]] | None = None


class ReadinessList(_Out):
    items: list[ReadinessOut]
