"""DRS records and helpers: source servers, jobs (with their lazy timeline), recovery instances.

Pure data and rules of one item each; the operations over a region's collection are in
``drs_model``. A job's status is computed from its creation time and step length on every read.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deploy.localaws.errors import AwsError

MAX_SERVERS_PER_JOB = 100
DEFAULT_PAGE_SIZE = 100
FAIL_LAUNCH_TAG = "localaws:fail-launch"
REPLICATING_STATES = frozenset({"CONTINUOUS"})
REPLICATION_STATES = frozenset(
    {
        "STOPPED",
        "INITIATING",
        "INITIAL_SYNC",
        "BACKLOG",
        "CREATING_SNAPSHOT",
        "CONTINUOUS",
        "PAUSED",
        "RESCAN",
        "STALLED",
        "DISCONNECTED",
    }
)
SOURCE_SERVER_ID = re.compile(r"^s-[0-9a-f]{17}$")


def hex17() -> str:
    return secrets.token_hex(9)[:17]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def validation_error(message: str, reason: str = "other", fields: Iterable[tuple[str, str]] = ()) -> AwsError:
    field_list = [{"name": name, "message": msg} for name, msg in fields]
    return AwsError("ValidationException", message, 400, fields={"reason": reason, "fieldList": field_list})


def not_found(resource_id: str, resource_type: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        f"{resource_type} {resource_id} not found",
        404,
        fields={"resourceId": resource_id, "resourceType": resource_type},
    )


def conflict(message: str, resource_id: str, resource_type: str) -> AwsError:
    return AwsError(
        "ConflictException", message, 409, fields={"resourceId": resource_id, "resourceType": resource_type}
    )


def string_list(value: Any, name: str) -> list[str]:
    """``value`` as a list of strings (``None`` → empty), or a ValidationException naming ``name``."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise validation_error(f"{name} must be a list of strings", "fieldValidationFailed", [(name, "list")])
    return value


def string_map(value: Any, name: str) -> dict[str, str]:
    """``value`` as a map of strings (``None`` → empty), or a ValidationException naming ``name``."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise validation_error(f"{name} must be a map of strings", "fieldValidationFailed", [(name, "map")])
    return value


@dataclass
class SourceServer:
    source_server_id: str
    arn: str
    hostname: str
    tags: dict[str, str]
    fail_launch: bool
    replication_state: str
    origin_region: str | None
    created_at: float
    recovery_instance_id: str | None = None
    last_launch: dict[str, Any] | None = None  # {"jobID", "type", "apiCallDateTime", "status"}
    replication_direction: str = "FAILOVER"
    reversed_direction_arn: str | None = None
    lag_seconds: int = 0
    aws_instance_id: str | None = None  # the EC2 instance this server replicates (identificationHints)
    launch_configuration: dict[str, Any] | None = None  # set when the server is created (drs_launch)

    def fails(self) -> bool:
        return self.fail_launch or self.tags.get(FAIL_LAUNCH_TAG, "").strip().lower() == "true"


@dataclass
class JobServer:
    source_server_id: str
    fails: bool
    recovery_instance_id: str  # the instance this launch creates, or the one a terminate removes


@dataclass
class Job:
    job_id: str
    arn: str
    type: str  # LAUNCH | TERMINATE
    initiated_by: str
    created_at: float
    step: float
    is_drill: bool
    tags: dict[str, str]
    servers: list[JobServer]
    skipped: list[str]
    settled: bool = False

    def elapsed(self, now: float) -> float:
        return now - self.created_at

    def status(self, now: float) -> str:
        if self.elapsed(now) >= 2 * self.step:
            return "COMPLETED"
        return "STARTED" if self.elapsed(now) >= self.step else "PENDING"

    def end_time(self) -> float:
        return self.created_at + 2 * self.step

    def server_status(self, server: JobServer, now: float) -> str:
        status = self.status(now)
        if status == "PENDING":
            return "PENDING"
        if status == "STARTED":
            return "IN_PROGRESS"
        if self.type == "TERMINATE":
            return "TERMINATED"
        return "FAILED" if server.fails else "LAUNCHED"

    def view(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        participating = []
        for server in self.servers:
            launch_status = self.server_status(server, now)
            item: dict[str, Any] = {"sourceServerID": server.source_server_id, "launchStatus": launch_status}
            if launch_status == "LAUNCHED" or self.type == "TERMINATE":
                item["recoveryInstanceID"] = server.recovery_instance_id
            participating.append(item)
        job: dict[str, Any] = {
            "jobID": self.job_id,
            "arn": self.arn,
            "type": self.type,
            "initiatedBy": self.initiated_by,
            "creationDateTime": iso(self.created_at),
            "status": status,
            "participatingServers": participating,
            "tags": dict(self.tags),
        }
        if status == "COMPLETED":
            job["endDateTime"] = iso(self.end_time())
        return job

    def log_items(self, now: float) -> list[dict[str, Any]]:
        """The job log up to ``now``: events are revealed as the job's clock passes them."""
        t0, s = self.created_at, self.step
        events: list[tuple[float, str, dict[str, Any]]] = [(t0, "JOB_START", {})]
        events += [(t0, "SERVER_SKIPPED", {"sourceServerID": sid}) for sid in self.skipped]
        for server in self.servers:
            sid = {"sourceServerID": server.source_server_id}
            if self.type == "TERMINATE":
                target = {**sid, "targetInstanceID": server.recovery_instance_id}
                events += [(t0 + s, "CLEANUP_START", target), (t0 + 2 * s, "CLEANUP_END", target)]
                continue
            events += [
                (t0 + s, "SNAPSHOT_START", sid),
                (t0 + 1.25 * s, "SNAPSHOT_END", sid),
                (t0 + 1.5 * s, "CONVERSION_START", sid),
                (t0 + 1.75 * s, "CONVERSION_END", sid),
                (t0 + 1.75 * s, "LAUNCH_START", {**sid, "targetInstanceID": server.recovery_instance_id}),
            ]
            if server.fails:
                error = {**sid, "rawError": "localaws: launch failure injected for this source server"}
                events.append((t0 + 2 * s, "LAUNCH_FAILED", error))
        events.append((t0 + 2 * s, "JOB_END", {}))
        events.sort(key=lambda e: e[0])  # stable: same-time events keep their order
        return [
            {"logDateTime": iso(ts), "event": event, "eventData": data}
            for ts, event, data in events
            if ts <= now
        ]


@dataclass
class RecoveryInstance:
    recovery_instance_id: str
    arn: str
    source_server_id: str
    job_id: str
    is_drill: bool
    created_at: float
    tags: dict[str, str]
    hostname: str
    origin_region: str | None
    state: str = "RUNNING"
    failback_state: str = "FAILBACK_NOT_STARTED"

    def view(self) -> dict[str, Any]:
        view: dict[str, Any] = {
            "recoveryInstanceID": self.recovery_instance_id,
            "ec2InstanceID": self.recovery_instance_id,
            "ec2InstanceState": self.state,
            "arn": self.arn,
            "sourceServerID": self.source_server_id,
            "jobID": self.job_id,
            "isDrill": self.is_drill,
            "tags": dict(self.tags),
            "pointInTimeSnapshotDateTime": iso(self.created_at),
            "originEnvironment": "AWS",
            "failback": {"state": self.failback_state},
            "recoveryInstanceProperties": {
                "lastUpdatedDateTime": iso(self.created_at),
                "identificationHints": {"hostname": self.hostname},
            },
        }
        if self.origin_region:
            view["originAvailabilityZone"] = f"{self.origin_region}a"
        return view


def paginate(items: list[Any], max_results: Any, next_token: Any) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the token of the next one (opaque, base64 of an offset)."""
    size = DEFAULT_PAGE_SIZE
    if max_results is not None:
        if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
            raise validation_error("maxResults must be a positive integer", "fieldValidationFailed")
        size = max_results
    offset = 0
    if next_token:
        try:
            offset = int(base64.urlsafe_b64decode(str(next_token).encode()).decode().removeprefix("o:"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise validation_error("Invalid nextToken", "fieldValidationFailed") from exc
    page = items[offset : offset + size]
    end = offset + size
    token = base64.urlsafe_b64encode(f"o:{end}".encode()).decode() if end < len(items) else None
    return page, token
