"""DRS operations beyond the adapter's phases, through boto3: tag sync, recovery instances, job logs.

* Tag sync EC2 → DRS: DRS does not copy an instance's tags to the source server replicating it, so
  ``dr:wave`` / ``dr:priority`` set on EC2 never reach discovery. Each source server of the Region is
  matched to its instance by ``sourceProperties.identificationHints.awsInstanceID`` (looked up in the
  server's origin Region); tags are only added or changed, never deleted unless ``prune``.
* Recovery instances launched by given DRS jobs, and their termination.
* The job log of one source server in one job (``describe_job_log_items``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws.discovery import AccountAccess
from shared.aws.errors import classify, describe, error_code
from shared.aws.sessions import SessionFactory
from shared.domain.tags import TAG_ENABLED

PAGE = 100
EC2_IDS_PER_CALL = 200
GONE = frozenset({"SHUTTING-DOWN", "TERMINATED"})
"""Recovery instance states of an instance on its way out (or gone)."""


class DrsCallFailed(Exception):
    """An AWS call failed; ``retryable`` when waiting may help."""

    def __init__(self, message: str, *, retryable: bool, code: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code


def call(action: Callable[[], Any], what: str) -> Any:
    try:
        return action()
    except (ClientError, BotoCoreError) as failure:
        retryable = classify(failure, "read").retryable
        raise DrsCallFailed(f"{what}: {describe(failure)}", retryable=retryable, code=error_code(failure)) from failure


def pages(client: Any, operation: str, key: str = "items", **kwargs: Any) -> Iterator[dict[str, Any]]:
    iterator = iter(client.get_paginator(operation).paginate(**kwargs))
    while True:
        page = call(lambda: next(iterator, None), operation)
        if page is None:
            return
        yield from page.get(key, [])


@dataclass(frozen=True)
class TagPlan:
    """What syncing one server's tags changes."""

    source_server_id: str
    instance_id: str
    arn: str
    set: dict[str, str]
    removed: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "sourceServerId": self.source_server_id,
            "awsInstanceId": self.instance_id,
            "set": self.set,
            "removed": self.removed,
        }


def plan_tags(
    current: dict[str, str], wanted: dict[str, str], keys: set[str] | None, prune: bool
) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove) turning a server's ``current`` tags into its instance's ``wanted`` ones
    (pure); only ``keys`` when given; ``aws:`` keys are AWS's own and never copied."""
    copy = {k: v for k, v in wanted.items() if not k.lower().startswith("aws:") and (keys is None or k in keys)}
    to_set = {k: v for k, v in sorted(copy.items()) if current.get(k) != v}
    removed = []
    if prune:
        removed = sorted(k for k in current if k not in copy and (keys is None or k in keys))
    return to_set, removed


class DrsOperations:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    def client(self, service: str, access: AccountAccess, region: str) -> Any:
        return access.client(self.sessions, service, region)

    # --- tag sync --------------------------------------------------------------------------------

    def tag_sync(
        self, access: AccountAccess, region: str, tag_keys: list[str] | None, *, dry_run: bool, prune: bool
    ) -> dict[str, Any]:
        drs = self.client("drs", access, region)
        servers = list(pages(drs, "describe_source_servers", filters={}, PaginationConfig={"PageSize": PAGE}))
        by_origin: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for server in servers:
            instance = ((server.get("sourceProperties") or {}).get("identificationHints") or {}).get("awsInstanceID")
            if instance:
                origin = (server.get("sourceCloudProperties") or {}).get("originRegion") or region
                by_origin[origin][instance] = server
        keys = set(tag_keys) if tag_keys else None
        changes: list[TagPlan] = []
        unchanged = 0
        missing: list[dict[str, Any]] = []
        for origin in sorted(by_origin or {region: {}}):
            replicated = by_origin.get(origin, {})
            instances = self._instances(access, origin, replicated)
            for instance_id, server in sorted(replicated.items()):
                tags = instances.get(instance_id)
                if tags is None:
                    missing.append(
                        {
                            "sourceServerId": server["sourceServerID"],
                            "awsInstanceId": instance_id,
                            "region": origin,
                            "problem": "the EC2 instance was not found",
                        }
                    )
                    continue
                to_set, removed = plan_tags(dict(server.get("tags") or {}), tags, keys, prune)
                if not to_set and not removed:
                    unchanged += 1
                    continue
                changes.append(TagPlan(server["sourceServerID"], instance_id, server["arn"], to_set, removed))
            for instance_id, tags in sorted(self._enrolled_instances(access, origin).items()):
                if instance_id not in replicated:
                    missing.append(
                        {
                            "awsInstanceId": instance_id,
                            "region": origin,
                            "problem": f"tagged {TAG_ENABLED}={tags.get(TAG_ENABLED)} but no DRS source server "
                            f"in {region} replicates it",
                        }
                    )
        if not dry_run:
            for change in changes:
                if change.set:
                    call(lambda c=change: drs.tag_resource(resourceArn=c.arn, tags=c.set), "drs.tag_resource")
                if change.removed:
                    call(
                        lambda c=change: drs.untag_resource(resourceArn=c.arn, tagKeys=c.removed), "drs.untag_resource"
                    )
        return {
            "synced": len(changes),
            "unchanged": unchanged,
            "missing_servers": missing,
            "changes": [c.as_json() for c in changes],
        }

    def _instances(self, access: AccountAccess, region: str, wanted: Iterable[str]) -> dict[str, dict[str, str]]:
        """Tags of the wanted EC2 instances that exist, by instance id."""
        return {
            instance["InstanceId"]: {t["Key"]: t.get("Value", "") for t in instance.get("Tags", [])}
            for instance in self._described(access, region, wanted)
        }

    def _described(self, access: AccountAccess, region: str, wanted: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The wanted EC2 instances that exist (an id filter: a missing id is left out, not an error)."""
        ec2 = self.client("ec2", access, region)
        ids = sorted(wanted)
        for start in range(0, len(ids), EC2_IDS_PER_CALL):
            chunk = ids[start : start + EC2_IDS_PER_CALL]
            for reservation in pages(
                ec2, "describe_instances", "Reservations", Filters=[{"Name": "instance-id", "Values": chunk}]
            ):
                yield from reservation.get("Instances", [])

    def _enrolled_instances(self, access: AccountAccess, region: str) -> dict[str, dict[str, str]]:
        """EC2 instances tagged for DR (``dr:enabled``, any value) that are not terminated."""
        ec2 = self.client("ec2", access, region)
        found: dict[str, dict[str, str]] = {}
        for reservation in pages(
            ec2, "describe_instances", "Reservations", Filters=[{"Name": "tag-key", "Values": [TAG_ENABLED]}]
        ):
            for instance in reservation.get("Instances", []):
                if (instance.get("State") or {}).get("Name") != "terminated":
                    found[instance["InstanceId"]] = {t["Key"]: t.get("Value", "") for t in instance.get("Tags", [])}
        return found

    # --- recovery instances and job logs -----------------------------------------------------------

    def recovery_instances(
        self, access: AccountAccess, region: str, server_ids: Iterable[str], job_ids: set[str]
    ) -> list[dict[str, Any]]:
        """The recovery instances of ``server_ids`` launched by one of ``job_ids``. ``launch_time`` is the EC2
        instance's ``LaunchTime``; DRS's point-in-time snapshot time stands in where EC2 does not know the
        instance (or cannot be asked): it is informational, never a reason to fail the listing."""
        wanted = sorted(set(server_ids))
        if not wanted:
            return []
        drs = self.client("drs", access, region)
        found: list[dict[str, Any]] = []
        for item in pages(
            drs,
            "describe_recovery_instances",
            filters={"sourceServerIDs": wanted},
            PaginationConfig={"PageSize": PAGE},
        ):
            if item.get("jobID") in job_ids:
                found.append(
                    {
                        "recovery_instance_id": item["recoveryInstanceID"],
                        "ec2_instance_id": item.get("ec2InstanceID"),
                        "source_server_id": item.get("sourceServerID"),
                        "state": item.get("ec2InstanceState"),
                        "is_drill": bool(item.get("isDrill")),
                        "launch_time": _time(item.get("pointInTimeSnapshotDateTime")),
                        "job_id": item.get("jobID"),
                        "region": region,
                    }
                )
        launched = self._launch_times(access, region, {i["ec2_instance_id"] for i in found if i["ec2_instance_id"]})
        for instance in found:
            instance["launch_time"] = launched.get(instance["ec2_instance_id"]) or instance["launch_time"]
        return found

    def _launch_times(self, access: AccountAccess, region: str, ids: set[str]) -> dict[str, str]:
        try:
            return {
                i["InstanceId"]: _time(i.get("LaunchTime"))
                for i in self._described(access, region, ids)
                if i.get("LaunchTime")
            }
        except DrsCallFailed:  # EC2 refused (a role without ec2:DescribeInstances): DRS's time stands in
            return {}

    def terminate(self, access: AccountAccess, region: str, instance_ids: list[str]) -> str:
        drs = self.client("drs", access, region)
        answer = call(
            lambda: drs.terminate_recovery_instances(recoveryInstanceIDs=instance_ids),
            "drs.terminate_recovery_instances",
        )
        return str(answer["job"]["jobID"])

    def job_log(
        self, access: AccountAccess, region: str, job_id: str, server_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The job's log items about ``server_id`` (and the job's own start and end; every item without
        ``server_id``), oldest first."""
        drs = self.client("drs", access, region)
        items = []
        for item in pages(drs, "describe_job_log_items", jobID=job_id):
            data = item.get("eventData") or {}
            if server_id is None or data.get("sourceServerID") in (None, server_id):
                items.append({"at": _time(item.get("logDateTime")), "event": item.get("event"), "event_data": data})
        return items


def _time(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if value else None
