"""Elastic Disaster Recovery, emulated: source servers, jobs, job logs, recovery instances, tags.

No HTTP here (see ``drs_api``). One :class:`DrsRegion` per (account, region). Time is lazy: a job
stores when it was created and how long a step takes, and every read works out where it is
(PENDING → STARTED after one step, COMPLETED after two); ``settle`` applies the effects of
finished jobs (recovery instances appear or go away) at the start of each request. No threads.

Rules (as DRS): at most 100 source servers per job (ValidationException), one active job per
source server (ConflictException), unknown or not-replicating servers are skipped (SERVER_SKIPPED),
a server created with ``failLaunch`` or tagged ``localaws:fail-launch=true`` ends FAILED, one
recovery instance per source server (a new launch replaces the previous one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deploy.localaws.drs_records import (
    MAX_SERVERS_PER_JOB,
    REPLICATING_STATES,
    REPLICATION_STATES,
    SOURCE_SERVER_ID,
    Job,
    JobServer,
    RecoveryInstance,
    SourceServer,
    conflict,
    hex17,
    iso,
    not_found,
    paginate,
    string_list,
    string_map,
    validation_error,
)


class DrsRegion:
    """DRS state of one account in one region."""

    def __init__(self, account_id: str, region: str, clock: Callable[[], float]) -> None:
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.servers: dict[str, SourceServer] = {}
        self.jobs: dict[str, Job] = {}
        self.instances: dict[str, RecoveryInstance] = {}

    def _arn(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:drs:{self.region}:{self.account_id}:{kind}/{resource_id}"

    # -- source servers (created through the admin API: DRS has no create call) ---------------

    def add_source_server(
        self,
        hostname: str,
        tags: dict[str, str] | None = None,
        fail_launch: bool = False,
        replication_state: str = "CONTINUOUS",
        origin_region: str | None = None,
    ) -> SourceServer:
        if replication_state not in REPLICATION_STATES:
            raise ValueError(f"replicationState must be one of {sorted(REPLICATION_STATES)}")
        sid = f"s-{hex17()}"
        server = SourceServer(
            source_server_id=sid,
            arn=self._arn("source-server", sid),
            hostname=hostname,
            tags=dict(tags or {}),
            fail_launch=fail_launch,
            replication_state=replication_state,
            origin_region=origin_region,
            created_at=self.clock(),
        )
        self.servers[sid] = server
        return server

    def server_view(self, server: SourceServer, now: float) -> dict[str, Any]:
        active = self.active_job_of(server.source_server_id, now)
        if active is not None and active.type == "LAUNCH":
            last_result = "PENDING"
        elif server.last_launch is None:
            last_result = "NOT_STARTED"
        else:
            last_result = {"LAUNCHED": "SUCCEEDED", "FAILED": "FAILED"}.get(
                server.last_launch["status"], "SUCCEEDED"
            )
        life_cycle: dict[str, Any] = {
            "addedToServiceDateTime": iso(server.created_at),
            "firstByteDateTime": iso(server.created_at),
            "lastSeenByServiceDateTime": iso(now),
        }
        if server.last_launch is not None:
            launch = server.last_launch
            status = launch["status"]
            if active is not None and active.job_id == launch["jobID"]:  # still running: PENDING/IN_PROGRESS
                status = active.server_status(
                    next(s for s in active.servers if s.source_server_id == server.source_server_id), now
                )
            life_cycle["lastLaunch"] = {
                "initiated": {
                    "apiCallDateTime": launch["apiCallDateTime"],
                    "jobID": launch["jobID"],
                    "type": launch["type"],
                },
                "status": status,
            }
        view: dict[str, Any] = {
            "sourceServerID": server.source_server_id,
            "arn": server.arn,
            "tags": dict(server.tags),
            "lastLaunchResult": last_result,
            "dataReplicationInfo": {
                "dataReplicationState": server.replication_state,
                "lagDuration": f"PT{server.lag_seconds}S",
                "replicatedDisks": [],
            },
            "lifeCycle": life_cycle,
            "sourceProperties": {
                "lastUpdatedDateTime": iso(server.created_at),
                "recommendedInstanceType": "m5.large",
                "identificationHints": _hints(server),
                "os": {"fullString": "Amazon Linux 2023"},
            },
            "stagingArea": {"status": "NOT_EXTENDED"},
            "replicationDirection": server.replication_direction,
        }
        if server.origin_region:
            view["sourceCloudProperties"] = {
                "originAccountID": self.account_id,
                "originRegion": server.origin_region,
                "originAvailabilityZone": f"{server.origin_region}a",
            }
        if server.recovery_instance_id:
            view["recoveryInstanceId"] = server.recovery_instance_id
        if server.reversed_direction_arn:
            view["reversedDirectionSourceServerArn"] = server.reversed_direction_arn
        return view

    def describe_source_servers(
        self, filters: dict[str, Any], max_results: Any, next_token: Any
    ) -> dict[str, Any]:
        now = self.clock()
        ids = string_list(filters.get("sourceServerIDs"), "sourceServerIDs")
        staging_accounts = string_list(filters.get("stagingAccountIDs"), "stagingAccountIDs")
        servers = sorted(self.servers.values(), key=lambda s: (s.created_at, s.source_server_id))
        if ids:
            wanted = set(ids)
            servers = [s for s in servers if s.source_server_id in wanted]
        if filters.get("hardwareId"):
            servers = []  # no hardware ids in the emulation
        if staging_accounts and self.account_id not in staging_accounts:
            servers = []
        page, token = paginate(servers, max_results, next_token)
        result: dict[str, Any] = {"items": [self.server_view(s, now) for s in page]}
        if token:
            result["nextToken"] = token
        return result

    # -- jobs -----------------------------------------------------------------------------------

    def active_job_of(self, source_server_id: str, now: float) -> Job | None:
        for job in self.jobs.values():
            if (
                not job.settled
                and job.status(now) != "COMPLETED"
                and any(s.source_server_id == source_server_id for s in job.servers)
            ):
                return job
        return None

    def _new_job(
        self, job_type: str, initiated_by: str, step: float, is_drill: bool, tags: dict[str, str]
    ) -> Job:
        job_id = f"drsjob-{hex17()}"
        return Job(
            job_id=job_id,
            arn=self._arn("job", job_id),
            type=job_type,
            initiated_by=initiated_by,
            created_at=self.clock(),
            step=step,
            is_drill=is_drill,
            tags=dict(tags),
            servers=[],
            skipped=[],
        )

    def start_recovery(self, source_servers: Any, is_drill: bool, tags: Any, step: float) -> Job:
        now = self.clock()
        tags = string_map(tags, "tags")
        if not isinstance(source_servers, list) or not source_servers:
            raise validation_error(
                "sourceServers must list at least one source server",
                "fieldValidationFailed",
                [("sourceServers", "required")],
            )
        ids: list[str] = []
        for entry in source_servers:
            sid = entry.get("sourceServerID") if isinstance(entry, dict) else None
            if not isinstance(sid, str) or not SOURCE_SERVER_ID.match(sid):
                raise validation_error(
                    f"Invalid sourceServerID {sid!r}",
                    "fieldValidationFailed",
                    [("sourceServerID", "must match s-[0-9a-f]{17}")],
                )
            if sid not in ids:
                ids.append(sid)
        if len(ids) > MAX_SERVERS_PER_JOB:
            raise validation_error(
                f"A job can include at most {MAX_SERVERS_PER_JOB} source servers; {len(ids)} were requested",
                "fieldValidationFailed",
                [("sourceServers", f"at most {MAX_SERVERS_PER_JOB} items")],
            )
        for sid in ids:
            active = self.active_job_of(sid, now) if sid in self.servers else None
            if active is not None:
                raise conflict(
                    f"Source server {sid} is already in active job {active.job_id} ({active.status(now)})",
                    sid,
                    "SOURCE_SERVER",
                )
        job = self._new_job("LAUNCH", "START_DRILL" if is_drill else "START_RECOVERY", step, is_drill, tags)
        for sid in ids:
            server = self.servers.get(sid)
            if server is None or server.replication_state not in REPLICATING_STATES:
                job.skipped.append(sid)
                continue
            job.servers.append(JobServer(sid, server.fails(), f"i-{hex17()}"))
            server.last_launch = {
                "jobID": job.job_id,
                "type": "DRILL" if is_drill else "RECOVERY",
                "apiCallDateTime": iso(now),
                "status": "PENDING",
            }
        self.jobs[job.job_id] = job
        self.settle()  # a zero step completes at once
        return job

    def terminate_recovery_instances(self, instance_ids: Any, step: float) -> Job:
        now = self.clock()
        if not string_list(instance_ids, "recoveryInstanceIDs"):
            raise validation_error(
                "recoveryInstanceIDs must list at least one instance", "fieldValidationFailed"
            )
        known: list[RecoveryInstance] = []
        for iid in dict.fromkeys(instance_ids):
            instance = self.instances.get(iid)
            if instance is None:
                continue
            active = self.active_job_of(instance.source_server_id, now)
            if active is not None:
                raise conflict(
                    f"Recovery instance {iid} (source server {instance.source_server_id}) is in active job "
                    f"{active.job_id}",
                    iid,
                    "RECOVERY_INSTANCE",
                )
            known.append(instance)
        job = self._new_job("TERMINATE", "TERMINATE_RECOVERY_INSTANCES", step, False, {})
        for instance in known:
            job.servers.append(JobServer(instance.source_server_id, False, instance.recovery_instance_id))
            instance.state = "SHUTTING-DOWN"
        self.jobs[job.job_id] = job
        self.settle()
        return job

    def settle(self) -> None:
        """Apply the effects of jobs that have completed since the last call."""
        now = self.clock()
        for job in sorted(self.jobs.values(), key=lambda j: j.created_at):
            if job.settled or job.status(now) != "COMPLETED":
                continue
            job.settled = True
            for js in job.servers:
                server = self.servers.get(js.source_server_id)
                if job.type == "TERMINATE":
                    self.instances.pop(js.recovery_instance_id, None)
                    if server is not None and server.recovery_instance_id == js.recovery_instance_id:
                        server.recovery_instance_id = None
                        if server.last_launch is not None:
                            server.last_launch["status"] = "TERMINATED"
                    continue
                if server is None:
                    continue
                if server.last_launch is not None and server.last_launch["jobID"] == job.job_id:
                    server.last_launch["status"] = "FAILED" if js.fails else "LAUNCHED"
                if js.fails:
                    continue
                if server.recovery_instance_id:  # one recovery instance per source server
                    self.instances.pop(server.recovery_instance_id, None)
                self.instances[js.recovery_instance_id] = RecoveryInstance(
                    recovery_instance_id=js.recovery_instance_id,
                    arn=self._arn("recovery-instance", js.recovery_instance_id),
                    source_server_id=server.source_server_id,
                    job_id=job.job_id,
                    is_drill=job.is_drill,
                    created_at=job.end_time(),
                    tags={},
                    hostname=server.hostname,
                    origin_region=server.origin_region,
                )
                server.recovery_instance_id = js.recovery_instance_id

    def describe_jobs(self, filters: dict[str, Any], max_results: Any, next_token: Any) -> dict[str, Any]:
        now = self.clock()
        jobs = sorted(self.jobs.values(), key=lambda j: (j.created_at, j.job_id), reverse=True)
        job_ids = string_list(filters.get("jobIDs"), "jobIDs")
        if job_ids:
            wanted = set(job_ids)
            jobs = [j for j in jobs if j.job_id in wanted]
        for bound, keep in (
            ("fromDate", lambda j, t: j.created_at >= t),
            ("toDate", lambda j, t: j.created_at <= t),
        ):
            if filters.get(bound):
                limit = _parse_time(filters[bound], bound)
                jobs = [j for j in jobs if keep(j, limit)]
        page, token = paginate(jobs, max_results, next_token)
        result: dict[str, Any] = {"items": [j.view(now) for j in page]}
        if token:
            result["nextToken"] = token
        return result

    def describe_job_log_items(self, job_id: Any, max_results: Any, next_token: Any) -> dict[str, Any]:
        job = self.jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            raise not_found(str(job_id), "JOB")
        page, token = paginate(job.log_items(self.clock()), max_results, next_token)
        result: dict[str, Any] = {"items": page}
        if token:
            result["nextToken"] = token
        return result

    # -- recovery instances -----------------------------------------------------------------------

    def describe_recovery_instances(
        self, filters: dict[str, Any], max_results: Any, next_token: Any
    ) -> dict[str, Any]:
        instances = sorted(self.instances.values(), key=lambda i: (i.created_at, i.recovery_instance_id))
        instance_ids = set(string_list(filters.get("recoveryInstanceIDs"), "recoveryInstanceIDs"))
        server_ids = set(string_list(filters.get("sourceServerIDs"), "sourceServerIDs"))
        if instance_ids:
            instances = [i for i in instances if i.recovery_instance_id in instance_ids]
        if server_ids:
            instances = [i for i in instances if i.source_server_id in server_ids]
        page, token = paginate(instances, max_results, next_token)
        result: dict[str, Any] = {"items": [i.view() for i in page]}
        if token:
            result["nextToken"] = token
        return result

    def reverse_replication(self, recovery_instance_id: Any, origin_store: DrsRegion | None) -> str:
        """Start replicating a recovery instance back to its origin; returns the new source server ARN.

        The reversed source server is created in the origin region (``origin_store``; this region
        when the origin is unknown) with replicationDirection FAILBACK. Calling it again returns the
        same ARN.
        """
        now = self.clock()
        instance = self.instances.get(recovery_instance_id) if isinstance(recovery_instance_id, str) else None
        if instance is None:
            raise not_found(str(recovery_instance_id), "RECOVERY_INSTANCE")
        server = self.servers[instance.source_server_id]
        active = self.active_job_of(server.source_server_id, now)
        if active is not None:
            raise conflict(
                f"Source server {server.source_server_id} is in active job {active.job_id}",
                server.source_server_id,
                "SOURCE_SERVER",
            )
        if server.reversed_direction_arn:
            return server.reversed_direction_arn
        target = origin_store or self
        reversed_server = target.add_source_server(
            hostname=server.hostname, tags={}, origin_region=self.region
        )
        reversed_server.replication_direction = "FAILBACK"
        reversed_server.reversed_direction_arn = server.arn
        server.reversed_direction_arn = reversed_server.arn
        instance.failback_state = "FAILBACK_IN_PROGRESS"
        return reversed_server.arn

    # -- tags ---------------------------------------------------------------------------------------

    def _taggable(self, arn: str) -> Any:
        for collection in (self.servers.values(), self.jobs.values(), self.instances.values()):
            for item in collection:
                if item.arn == arn:
                    return item
        raise not_found(arn, "RESOURCE")

    def list_tags(self, arn: str) -> dict[str, str]:
        return dict(self._taggable(arn).tags)

    def tag(self, arn: str, tags: Any) -> None:
        item = self._taggable(arn)
        tags = string_map(tags, "tags")
        if any(k.lower().startswith("aws:") for k in tags):
            raise validation_error("Tag keys starting with 'aws:' are reserved", "fieldValidationFailed")
        if len({**item.tags, **tags}) > 50:
            raise validation_error("A resource can have at most 50 tags", "fieldValidationFailed")
        item.tags.update(tags)

    def untag(self, arn: str, keys: list[str]) -> None:
        item = self._taggable(arn)
        for key in keys:
            item.tags.pop(key, None)


def _hints(server: SourceServer) -> dict[str, str]:
    hints = {"hostname": server.hostname, "fqdn": server.hostname}
    if server.aws_instance_id:
        hints["awsInstanceID"] = server.aws_instance_id
    return hints


def _parse_time(value: Any, name: str) -> float:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise validation_error(f"{name} must be an ISO 8601 date-time", "fieldValidationFailed") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass
class DrsStore:
    """All DRS state of one endpoint, partitioned by (account, region)."""

    clock: Callable[[], float]
    regions: dict[tuple[str, str], DrsRegion] = field(default_factory=dict)

    def region(self, account_id: str, region: str) -> DrsRegion:
        key = (account_id, region)
        if key not in self.regions:
            self.regions[key] = DrsRegion(account_id, region, self.clock)
        return self.regions[key]

    def reset(self) -> None:
        self.regions.clear()
