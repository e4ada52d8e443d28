"""The `drs` adapter: AWS Elastic Disaster Recovery source servers, started in launch batches.

| phase | start (once per batch) | shared status look-up |
|---|---|---|
| instantiate | ``start_recovery(isDrill)``, ≤ 100 servers: one job | ``describe_jobs`` (+ the job log on failures) |
| activate | nothing to start | ``describe_recovery_instances``: RUNNING |
| cleanup | ``terminate_recovery_instances`` of drill instances: one job | ``describe_recovery_instances``: gone |
| replicate | ``reverse_replication`` per instance (one per call); never in a drill | decided at start |

One start per batch: the recovery service lets one member claim the batch; a re-claimed start (its
worker went silent) first looks for the job the earlier claim may have started — jobs carry the tag
``drwave:batch`` — and a ``ConflictException`` (a server already in an active job) is classified as
done-already and resolved by looking that job up: ours is adopted, a foreign job fails only the
servers it holds and the rest of the batch starts without them.

A cleanup terminates the drill instances of every job the executions it follows started — the jobs on
record (the batches', strays included) and any job tagged ``drwave:execution`` with one of them — so a
job whose start lost its claim leaves no instance behind (docs/architecture.md, "Launch batches").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from shared.domain.batches import DRS_JOB_LIMIT

from .base import BatchAdapter, BatchContext, BatchStarted, Failed, Outcome, Progress, ResourceContext, RetryLater
from .common import AwsAdapter, DoneAlready, aws, pages, parse_arn
from .registry import register

PAGE_SIZE = 100
TAG_BATCH = "drwave:batch"
TAG_EXECUTION = "drwave:execution"
ACTIVE_LAUNCH = frozenset({"PENDING", "IN_PROGRESS"})
LAUNCH_FAILED = frozenset({"FAILED", "TERMINATED"})
GONE = frozenset({"SHUTTING-DOWN", "TERMINATED"})
NOT_RUNNING = frozenset({"STOPPING", "STOPPED", "SHUTTING-DOWN", "TERMINATED"})

IP, OK, KO = Outcome.IN_PROGRESS, Outcome.SUCCEEDED, Outcome.FAILED


def _described(drs: Any, operation: str, filters: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of a filtered DRS ``describe_*`` read, at the largest page size."""
    return pages(drs, operation, f"drs.{operation}", filters=filters, PaginationConfig={"PageSize": PAGE_SIZE})


def server_id(ctx: ResourceContext) -> str:
    """The source server id of a member: recorded at start, else the ARN's (``source-server/s-…``)."""
    recorded = ctx.detail.get("sourceServerID")
    if recorded:
        return str(recorded)
    arn = parse_arn(ctx.arn)
    if arn.service != "drs" or not arn.resource.startswith("source-server/"):
        raise Failed(f"{ctx.arn} is not a DRS source server ARN")
    return arn.resource_id


@register("drs")
class DrsAdapter(AwsAdapter, BatchAdapter):
    name = "drs"
    service = "drs"
    batch_limit = DRS_JOB_LIMIT

    # --- starting a batch ------------------------------------------------------------------------

    def start_batch(self, batch: BatchContext) -> BatchStarted:
        if not batch.members:
            raise Failed("a launch batch without members")
        if len(batch.members) > self.batch_limit:
            raise Failed(f"a launch batch of {len(batch.members)} servers; DRS takes at most {self.batch_limit}")
        starts = {
            "instantiate": self._launch,
            "activate": self._watch,
            "cleanup": self._terminate,
            "replicate": self._reverse,
        }
        start = starts.get(batch.phase)
        if start is None:
            raise Failed(f"unknown phase {batch.phase!r}")
        return start(batch)

    def _drs(self, batch: BatchContext) -> Any:
        region, account = batch.region, batch.account_id
        if not region:
            first = parse_arn(batch.members[0].arn) if batch.members else None
            region, account = (first.region, first.account) if first else (None, None)
        return self.client(batch, region, account_id=account)

    def _launch(self, batch: BatchContext) -> BatchStarted:
        drs = self._drs(batch)
        pending = {m.resource_run_id: server_id(m) for m in batch.members}
        decided: dict[int, Progress] = {}
        if batch.attempt > 1:  # an earlier claim may have started the job before its worker went silent
            own, _ = self._lookup(drs, pending.values(), batch.token)
            if own is not None:
                return self._launched(batch, own, pending, decided, adopted=True)
        while pending:
            servers = list(dict.fromkeys(pending.values()))
            started = aws(
                lambda servers=servers: drs.start_recovery(
                    sourceServers=[{"sourceServerID": sid} for sid in servers],
                    isDrill=batch.is_drill,
                    tags={TAG_BATCH: batch.token, TAG_EXECUTION: batch.execution_id},
                ),
                f"drs.start_recovery of {len(servers)} source servers",
                done_already=("ConflictException",),
            )
            if not isinstance(started, DoneAlready):
                return self._launched(batch, started["job"], pending, decided)
            own, busy = self._lookup(drs, pending.values(), batch.token)
            if own is not None:
                return self._launched(batch, own, pending, decided, adopted=True)
            if not busy:
                raise RetryLater("drs.start_recovery: ConflictException, yet no server is in an active launch job")
            for run_id, sid in list(pending.items()):
                if sid in busy:
                    decided[run_id] = Progress(
                        KO,
                        {"sourceServerID": sid, "conflictingJobID": busy[sid]},
                        f"source server {sid} is already in active DRS job {busy[sid]}, not started by this execution",
                    )
                    del pending[run_id]
        return BatchStarted(f"none:{batch.token}", {"jobID": None, "servers": 0}, decided)

    def _launched(
        self,
        batch: BatchContext,
        job: dict[str, Any],
        pending: dict[int, str],
        decided: dict[int, Progress],
        adopted: bool = False,
    ) -> BatchStarted:
        job_id = str(job["jobID"])
        for run_id, sid in pending.items():
            decided[run_id] = Progress(IP, {"sourceServerID": sid, "jobID": job_id, "drill": batch.is_drill})
        detail = {"jobID": job_id, "isDrill": batch.is_drill, "servers": len(set(pending.values()))}
        if adopted:
            detail["adopted"] = True  # found the job an earlier claim started, instead of a second start
        return BatchStarted(job_id, detail, decided)

    def _lookup(self, drs: Any, servers: Iterable[str], token: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
        """The job of this batch, if one exists, and ``{server: active launch job}`` for the others."""
        last_jobs, busy = self._launches(drs, servers)
        if not last_jobs:
            return None, busy
        jobs = self._jobs(drs, sorted(set(last_jobs.values())))
        own = next((j for j in jobs.values() if (j.get("tags") or {}).get(TAG_BATCH) == token), None)
        return own, busy

    @staticmethod
    def _launches(drs: Any, servers: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
        """``{server: its last launch job}`` and ``{server: its launch job still running}``."""
        last_jobs: dict[str, str] = {}
        busy: dict[str, str] = {}
        for page in _described(drs, "describe_source_servers", {"sourceServerIDs": sorted(set(servers))}):
            for item in page.get("items", []):
                launch = (item.get("lifeCycle") or {}).get("lastLaunch") or {}
                job_id = (launch.get("initiated") or {}).get("jobID")
                if job_id:
                    last_jobs[item["sourceServerID"]] = job_id
                    if launch.get("status") in ACTIVE_LAUNCH:
                        busy[item["sourceServerID"]] = job_id
        return last_jobs, busy

    @staticmethod
    def _jobs(drs: Any, job_ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for page in _described(drs, "describe_jobs", {"jobIDs": job_ids}):
            for job in page.get("items", []):
                found[job["jobID"]] = job
        return found

    def _watch(self, batch: BatchContext) -> BatchStarted:
        members = {
            m.resource_run_id: Progress(
                IP, _compact({"sourceServerID": server_id(m), "recoveryInstanceID": _recorded_instance(m)})
            )
            for m in batch.members
        }
        servers = sorted({p.detail["sourceServerID"] for p in members.values()})
        return BatchStarted(f"activate:{batch.token}", {"sourceServerIDs": servers}, members)

    def _terminate(self, batch: BatchContext) -> BatchStarted:
        drs = self._drs(batch)
        servers = {m.resource_run_id: server_id(m) for m in batch.members}
        self._wait_for_earlier_launches(drs, batch, servers.values())
        instances = self._instances(drs, servers.values())
        ours = self._launched_by_earlier(drs, batch, instances)
        decided: dict[int, Progress] = {}
        targets: list[str] = []
        for member in batch.members:
            sid = servers[member.resource_run_id]
            recorded = _recorded_instance(member)
            of_server = [i for i in instances if i.get("sourceServerID") == sid]
            chosen = [i for i in of_server if i["recoveryInstanceID"] == recorded or i["recoveryInstanceID"] in ours]
            launched_nothing = "jobID" in member.source_detail and recorded is None
            if not chosen and recorded is None and not launched_nothing:
                chosen = of_server[:1]  # nothing on record: the server's current instance
            drills = sorted((i["recoveryInstanceID"] for i in chosen if i.get("isDrill")), key=lambda i: i != recorded)
            kept = [i["recoveryInstanceID"] for i in chosen if not i.get("isDrill")]
            if not drills:
                decided[member.resource_run_id] = Progress(OK, _nothing_to_terminate(sid, kept, launched_nothing))
                continue
            detail: dict[str, Any] = {"sourceServerID": sid, "recoveryInstanceID": drills[0]}
            if len(drills) > 1:  # a stray job's instance besides the recorded one
                detail["recoveryInstanceIDs"] = drills
            decided[member.resource_run_id] = Progress(IP, detail)
            gone = {i["recoveryInstanceID"] for i in chosen if i.get("ec2InstanceState") in GONE}
            targets.extend(iid for iid in drills if iid not in gone)  # being terminated already: just watch it go
        job_id = None
        if targets:
            result = aws(
                lambda: drs.terminate_recovery_instances(recoveryInstanceIDs=targets),
                f"drs.terminate_recovery_instances of {len(targets)} instances",
                kind="delete",
                done_already=("ConflictException",),  # already in a (terminate) job: watch them go
            )
            if not isinstance(result, DoneAlready):
                job_id = result["job"]["jobID"]
        detail = {"jobID": job_id, "sourceServerIDs": sorted(set(servers.values())), "terminating": len(targets)}
        return BatchStarted(job_id or f"terminate:{batch.token}", detail, decided)

    def _wait_for_earlier_launches(self, drs: Any, batch: BatchContext, servers: Iterable[str]) -> None:
        """A launch job of the executions this cleanup follows still running (a stray's, started late)
        would bring up instances after the cleanup: raise ``RetryLater`` until it has ended."""
        _, busy = self._launches(drs, servers)
        if not busy:
            return
        jobs = self._jobs(drs, sorted(set(busy.values())))
        earlier = [job_id for job_id, job in jobs.items() if self._is_earlier(batch, job_id, job)]
        if earlier:
            raise RetryLater(f"DRS launch job {earlier[0]} of the execution this cleanup follows is still running")

    def _launched_by_earlier(self, drs: Any, batch: BatchContext, instances: list[dict[str, Any]]) -> set[str]:
        """The recovery instances launched by a job of the executions this cleanup follows: a job on record
        (a batch's, a stray, a member's) or one tagged ``drwave:execution`` with one of them (never recorded)."""
        known = _recorded_jobs(batch)
        unknown = sorted({str(i["jobID"]) for i in instances if i.get("jobID") and i["jobID"] not in known})
        if unknown and batch.earlier.execution_ids:
            known |= {
                job_id for job_id, job in self._jobs(drs, unknown).items() if self._is_earlier(batch, job_id, job)
            }
        return {i["recoveryInstanceID"] for i in instances if i.get("jobID") in known}

    @staticmethod
    def _is_earlier(batch: BatchContext, job_id: str, job: dict[str, Any]) -> bool:
        """Whether a DRS job was started by the executions this cleanup follows: on record, or so tagged."""
        tagged = (job.get("tags") or {}).get(TAG_EXECUTION)
        return job_id in _recorded_jobs(batch) or (tagged is not None and tagged in batch.earlier.execution_ids)

    def _reverse(self, batch: BatchContext) -> BatchStarted:
        drs = self._drs(batch)
        servers = {m.resource_run_id: server_id(m) for m in batch.members}
        instances = self._instances(drs, servers.values())
        reversed_arns = {} if batch.is_drill else self._reversed(drs, servers.values())
        decided: dict[int, Progress] = {}
        for member in batch.members:
            sid = servers[member.resource_run_id]
            instance = _instance_for(instances, sid, _recorded_instance(member))
            if instance is None:
                decided[member.resource_run_id] = Progress(
                    KO, {"sourceServerID": sid}, f"source server {sid} has no recovery instance to replicate back from"
                )
            elif batch.is_drill:
                decided[member.resource_run_id] = Progress(
                    OK,
                    {
                        "sourceServerID": sid,
                        "recoveryInstanceID": instance["recoveryInstanceID"],
                        "applied": False,
                        "note": "not applied in drill: reverse replication changes the live replication direction",
                    },
                )
            elif instance.get("isDrill"):
                decided[member.resource_run_id] = Progress(
                    KO,
                    {"sourceServerID": sid, "recoveryInstanceID": instance["recoveryInstanceID"]},
                    f"recovery instance {instance['recoveryInstanceID']} is a drill instance; only a recovery's "
                    "instances replicate back",
                )
            elif sid in reversed_arns:
                decided[member.resource_run_id] = Progress(
                    OK,
                    {
                        "sourceServerID": sid,
                        "reversedDirectionSourceServerArn": reversed_arns[sid],
                        "doneAlready": True,
                    },
                )
            else:
                iid = instance["recoveryInstanceID"]
                try:
                    answer = aws(
                        lambda iid=iid: drs.reverse_replication(recoveryInstanceID=iid),
                        f"drs.reverse_replication of {iid}",
                    )
                except Failed as error:
                    decided[member.resource_run_id] = Progress(KO, {"sourceServerID": sid}, str(error))
                    continue
                arn = None if isinstance(answer, DoneAlready) else answer.get("reversedDirectionSourceServerArn")
                decided[member.resource_run_id] = Progress(
                    OK,
                    _compact(
                        {"sourceServerID": sid, "recoveryInstanceID": iid, "reversedDirectionSourceServerArn": arn}
                    ),
                )
        return BatchStarted(f"replicate:{batch.token}", {"sourceServerIDs": sorted(set(servers.values()))}, decided)

    @staticmethod
    def _instances(drs: Any, servers: Iterable[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in _described(drs, "describe_recovery_instances", {"sourceServerIDs": sorted(set(servers))}):
            found.extend(page.get("items", []))
        return found

    @staticmethod
    def _reversed(drs: Any, servers: Iterable[str]) -> dict[str, str]:
        done: dict[str, str] = {}
        for page in _described(drs, "describe_source_servers", {"sourceServerIDs": sorted(set(servers))}):
            for item in page.get("items", []):
                if item.get("reversedDirectionSourceServerArn"):
                    done[item["sourceServerID"]] = item["reversedDirectionSourceServerArn"]
        return done

    # --- the shared status look-up -----------------------------------------------------------------

    def describe_batch(self, batch: BatchContext) -> dict[str, Any]:
        if batch.phase == "instantiate":
            return self._describe_job(batch)
        if batch.phase in ("activate", "cleanup"):
            servers = batch.detail.get("sourceServerIDs") or [server_id(m) for m in batch.members]
            instances = self._instances(self._drs(batch), servers)
            return {
                "instances": {
                    i["recoveryInstanceID"]: _compact(
                        {
                            "sourceServerID": i.get("sourceServerID"),
                            "state": i.get("ec2InstanceState"),
                            "isDrill": i.get("isDrill"),
                        }
                    )
                    for i in instances
                }
            }
        return {}

    def describe_batches(self, batches: list[BatchContext]) -> dict[int, dict[str, Any]]:
        """Launch jobs of one account and Region in one DescribeJobs; other phases one by one."""
        launches = [b for b in batches if b.phase == "instantiate" and b.batch_id is not None]
        views = {b.batch_id: self.describe_batch(b) for b in batches if b not in launches and b.batch_id is not None}
        if launches:
            drs = self._drs(launches[0])
            wanted = [job for b in launches if (job := _job_id(b))]
            found = self._jobs(drs, wanted) if wanted else {}
            views |= {b.batch_id: self._job_view(drs, b, found) for b in launches}
        return views

    def _describe_job(self, batch: BatchContext) -> dict[str, Any]:
        job_id = _job_id(batch)
        if not job_id:
            return {"jobID": None, "status": "COMPLETED", "servers": {}}
        drs = self._drs(batch)
        return self._job_view(drs, batch, self._jobs(drs, [job_id]))

    def _job_view(self, drs: Any, batch: BatchContext, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
        job_id = _job_id(batch)
        if not job_id:
            return {"jobID": None, "status": "COMPLETED", "servers": {}}
        job = found.get(job_id)
        if job is None:
            return {"jobID": job_id, "error": f"DRS job {job_id} was not found"}
        servers = {
            s["sourceServerID"]: _compact(
                {"launchStatus": s.get("launchStatus"), "recoveryInstanceID": s.get("recoveryInstanceID")}
            )
            for s in job.get("participatingServers", [])
        }
        view: dict[str, Any] = {"jobID": job_id, "status": job.get("status"), "servers": servers}
        if job.get("status") == "COMPLETED" and any(s.get("launchStatus") in LAUNCH_FAILED for s in servers.values()):
            view["reasons"] = self._failure_reasons(drs, job_id)
        return view

    @staticmethod
    def _failure_reasons(drs: Any, job_id: str) -> dict[str, str]:
        """Why servers failed, from the job log (one look-up per job, only when some failed)."""
        reasons: dict[str, str] = {}
        for page in pages(drs, "describe_job_log_items", "drs.describe_job_log_items", jobID=job_id):
            for item in page.get("items", []):
                data = item.get("eventData") or {}
                if item.get("event") == "LAUNCH_FAILED" and data.get("sourceServerID"):
                    reasons[data["sourceServerID"]] = str(data.get("rawError") or "LAUNCH_FAILED")
        return reasons

    def member_status(self, view: dict[str, Any], ctx: ResourceContext) -> Progress:
        if view.get("error"):
            return Progress(KO, error=str(view["error"]))
        if ctx.phase == "instantiate":
            return _launch_status(view, ctx)
        if ctx.phase == "activate":
            return _running_status(view, ctx)
        if ctx.phase == "cleanup":
            return _terminated_status(view, ctx)
        return Progress(OK)


def _launch_status(view: dict[str, Any], ctx: ResourceContext) -> Progress:
    sid = server_id(ctx)
    job_id = view.get("jobID")
    entry = (view.get("servers") or {}).get(sid)
    if entry is None:
        return Progress(
            KO,
            error=f"DRS left source server {sid} out of job {job_id} (not replicating, or unknown: see SERVER_SKIPPED "
            "in the job log)",
        )
    status = entry.get("launchStatus")
    if status == "LAUNCHED":
        return Progress(OK, _compact({"launchStatus": status, "recoveryInstanceID": entry.get("recoveryInstanceID")}))
    if status in LAUNCH_FAILED:
        reason = (view.get("reasons") or {}).get(sid)
        return Progress(
            KO, {"launchStatus": status}, f"launch {status} in DRS job {job_id}" + (f": {reason}" if reason else "")
        )
    if view.get("status") == "COMPLETED":
        return Progress(KO, {"launchStatus": status}, f"DRS job {job_id} completed without launching {sid} ({status})")
    return Progress(IP, {"launchStatus": status})


def _running_status(view: dict[str, Any], ctx: ResourceContext) -> Progress:
    sid = server_id(ctx)
    iid, instance = _viewed_instance(view, sid, ctx.detail.get("recoveryInstanceID"))
    if instance is None:
        return Progress(KO, error=f"source server {sid} has no recovery instance (instantiate it first)")
    state = instance.get("state")
    if state == "RUNNING":
        return Progress(OK, {"recoveryInstanceID": iid, "ec2InstanceState": state})
    if state in NOT_RUNNING:
        return Progress(
            KO, {"recoveryInstanceID": iid, "ec2InstanceState": state}, f"recovery instance {iid} is {state}"
        )
    return Progress(IP, {"recoveryInstanceID": iid, "ec2InstanceState": state})


def _terminated_status(view: dict[str, Any], ctx: ResourceContext) -> Progress:
    iid = ctx.detail.get("recoveryInstanceID")
    every = ctx.detail.get("recoveryInstanceIDs") or ([iid] if iid else [])
    instances = view.get("instances") or {}
    left = [instances[i] for i in every if i in instances and instances[i].get("state") != "TERMINATED"]
    if not left:
        return Progress(OK, {"terminated": iid})
    return Progress(IP, {"ec2InstanceState": left[0].get("state")})


def _nothing_to_terminate(sid: str, kept: list[str], launched_nothing: bool) -> dict[str, Any]:
    """A cleanup member's detail when none of its server's instances is a drill instance of ours."""
    if kept:
        return {
            "sourceServerID": sid,
            "kept": kept[0],
            "note": "kept: the recovery instance of a real recovery serves production; terminate it after failback",
        }
    note = "the source execution launched no instance" if launched_nothing else "no recovery instance left"
    return {"sourceServerID": sid, "note": f"{note} to terminate"}


def _viewed_instance(view: dict[str, Any], sid: str, recorded: str | None) -> tuple[str | None, dict[str, Any] | None]:
    instances = view.get("instances") or {}
    if recorded:
        return recorded, instances.get(recorded)
    for iid, instance in instances.items():
        if instance.get("sourceServerID") == sid:
            return iid, instance
    return None, None


def _recorded_instance(ctx: ResourceContext) -> str | None:
    """The recovery instance an earlier phase recorded for this server (its instantiate's launch)."""
    value = ctx.source_detail.get("recoveryInstanceID") or ctx.detail.get("recoveryInstanceID")
    return str(value) if value else None


def _instance_for(instances: list[dict[str, Any]], sid: str, recorded: str | None) -> dict[str, Any] | None:
    """The recovery instance to act on: the recorded one (if it still exists), else the server's current one."""
    if recorded:
        return next((i for i in instances if i.get("recoveryInstanceID") == recorded), None)
    return next((i for i in instances if i.get("sourceServerID") == sid), None)


def _recorded_jobs(batch: BatchContext) -> set[str]:
    """The DRS jobs on record for a later phase's batch: its earlier executions' (strays included) and
    the jobs its members' earlier runs recorded."""
    members = {str(m.source_detail["jobID"]) for m in batch.members if m.source_detail.get("jobID")}
    return set(batch.earlier.operation_ids) | members


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _job_id(batch: BatchContext) -> str | None:
    """The batch's DRS job, or None when its start needed none (``none:…``)."""
    job_id = batch.operation_id or batch.detail.get("jobID")
    return None if not job_id or job_id.startswith("none:") else job_id
