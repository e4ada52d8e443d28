"""Preflight checks (pure): what AWS reports about a plan's resources, judged before anyone presses start.

The facts are gathered elsewhere (``shared/aws/preflight.py``); here they become checks
``{"name", "status": "ok"|"warning"|"error", "resourceArn"?, "message"}``. A start refuses a plan with
an error unless forced; a plan is ``ready`` only when every check is ``ok``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.domain.batches import DRS_JOB_LIMIT

DRS_CONCURRENT_JOBS = 20
DRS_SERVERS_IN_ACTIVE_JOBS = 500
"""DRS quotas per account and Region (AWS defaults; servers per job: ``batches.DRS_JOB_LIMIT``)."""
DEFAULT_MAX_REPLICATION_LAG = 900
HEALTHY_REPLICATION = "CONTINUOUS"


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


class Readiness(StrEnum):
    READY = "ready"
    ACTION_REQUIRED = "actionRequired"
    NOT_EVALUATED = "notEvaluated"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str
    resource_arn: str | None = None
    field: str | None = None  # the plan field it is about (a wave action's: waves[0].preActions[0].functionArn)

    def as_json(self) -> dict[str, str]:
        view = {"name": self.name, "status": self.status.value, "message": self.message}
        if self.resource_arn:
            view["resourceArn"] = self.resource_arn
        if self.field:
            view["field"] = self.field
        return view


def ok(name: str, message: str, arn: str | None = None, field: str | None = None) -> Check:
    return Check(name, Status.OK, message, arn, field)


def warning(name: str, message: str, arn: str | None = None, field: str | None = None) -> Check:
    return Check(name, Status.WARNING, message, arn, field)


def error(name: str, message: str, arn: str | None = None, field: str | None = None) -> Check:
    return Check(name, Status.ERROR, message, arn, field)


def readiness_of(checks: Iterable[Check]) -> Readiness:
    """``ready`` when every check passed; anything to look at makes it ``actionRequired``."""
    return Readiness.READY if all(c.status is Status.OK for c in checks) else Readiness.ACTION_REQUIRED


def errors_of(checks: Iterable[Check]) -> list[Check]:
    return [c for c in checks if c.status is Status.ERROR]


# --- DRS ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrsActivity:
    """Jobs already running in one account + Region (not COMPLETED) and the servers they hold."""

    running_jobs: int
    servers_in_active_jobs: int


def jobs_for(servers: int) -> int:
    return -(-servers // DRS_JOB_LIMIT)


def drs_quota_checks(where: str, servers_per_wave: Mapping[int, int], activity: DrsActivity) -> list[Check]:
    """Quotas of one account + Region (``where``): the waves run one after another, so the largest wave
    is what must fit next to the jobs already running."""
    waves = {wave: n for wave, n in servers_per_wave.items() if n}
    if not waves:
        return []
    largest_wave, largest = max(waves.items(), key=lambda item: (item[1], -item[0]))
    jobs = jobs_for(largest)
    per_job = ok(
        "drs.quota.serversPerJob",
        f"{where}: wave {largest_wave} has {largest} source servers, started as {jobs} job(s) of at most "
        f"{DRS_JOB_LIMIT}",
    )
    concurrent = activity.running_jobs + jobs
    jobs_check = (ok if concurrent <= DRS_CONCURRENT_JOBS else error)(
        "drs.quota.concurrentJobs",
        f"{where}: {activity.running_jobs} DRS job(s) running now + {jobs} for wave {largest_wave} = {concurrent} "
        f"(quota {DRS_CONCURRENT_JOBS})",
    )
    in_jobs = activity.servers_in_active_jobs + largest
    servers_check = (ok if in_jobs <= DRS_SERVERS_IN_ACTIVE_JOBS else error)(
        "drs.quota.serversInActiveJobs",
        f"{where}: {activity.servers_in_active_jobs} source server(s) in active jobs now + {largest} for wave "
        f"{largest_wave} = {in_jobs} (quota {DRS_SERVERS_IN_ACTIVE_JOBS})",
    )
    return [per_job, jobs_check, servers_check]


_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def duration_seconds(value: str | None) -> float | None:
    """An ISO 8601 duration as DRS reports ``lagDuration`` (``PT15M``, ``PT900S``, ``P1DT2H``), in seconds."""
    match = _DURATION.match(value or "")
    if not value or match is None:
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)


def replication_check(arn: str, state: str | None, lag: str | None, max_lag_seconds: float) -> Check:
    """``CONTINUOUS`` or an error (a stalled server is skipped by DRS); lag over the limit is a warning."""
    if state != HEALTHY_REPLICATION:
        return error(
            "drs.replication",
            f"replication is {state or 'unknown'}, not {HEALTHY_REPLICATION}: DRS would skip this server",
            arn,
        )
    seconds = duration_seconds(lag)
    if seconds is not None and seconds > max_lag_seconds:
        return warning(
            "drs.replication",
            f"replication lag {seconds / 60:.1f} min is over {max_lag_seconds / 60:.1f} min: recovered data "
            f"would be that old",
            arn,
        )
    return ok(
        "drs.replication", f"replication {state}" + (f", lag {seconds:.0f} s" if seconds is not None else ""), arn
    )


# --- RTO ------------------------------------------------------------------------------------------


def rto_forecast_check(rto: Mapping[str, Any]) -> Check:
    """A warning when the forecast's p90 (``rtoForecast``) exceeds the plan's RTO target."""
    target, p90 = rto["targetMinutes"], rto["p90Minutes"]
    basis = f"basis {rto['basis']}, {rto['runsUsed']} past run(s)"
    if not target:
        return ok("rto.forecast", f"p50 {rto['p50Minutes']} min, p90 {p90} min ({basis}); no RTO target set")
    if p90 > target:
        return warning(
            "rto.forecast", f"p90 forecast {p90} min exceeds the plan's RTO target of {target} min ({basis})"
        )
    return ok("rto.forecast", f"p90 forecast {p90} min is within the RTO target of {target} min ({basis})")


# --- Aurora ---------------------------------------------------------------------------------------

AURORA_LAG_METRIC = "AuroraGlobalDBReplicationLag"  # CloudWatch AWS/RDS, milliseconds, per secondary cluster
AURORA_LAG_WINDOW_SECONDS = 300  # the latest datapoint of the last few minutes is the secondary's lag now


def aurora_lag_check(arn: str, secondary: str, lag_ms: float | None, max_lag_seconds: float, why: str = "") -> Check:
    """The secondary's replication lag: a warning over the limit; unknown (no datapoints, or CloudWatch
    would not say, ``why``) is only informational, since lag is reported only where the metric exists."""
    if lag_ms is None:
        why = why or f"no {AURORA_LAG_METRIC} datapoints in the last {AURORA_LAG_WINDOW_SECONDS // 60} min"
        return ok("aurora.replicationLag", f"secondary {secondary}: replication lag not available ({why})", arn)
    seconds = lag_ms / 1000
    if seconds > max_lag_seconds:
        return warning(
            "aurora.replicationLag",
            f"secondary {secondary}: replication lag {seconds:.1f} s is over {max_lag_seconds:.0f} s: recovered "
            f"data would be that old",
            arn,
        )
    return ok("aurora.replicationLag", f"secondary {secondary}: replication lag {seconds:.1f} s", arn)


@dataclass(frozen=True)
class Leftover:
    """A drill recovery instance still running, and the execution that launched it (when drwave did)."""

    instance_id: str
    execution_id: str | None


def leftover_check(arn: str, leftovers: list[Leftover]) -> Check:
    if not leftovers:
        return ok("drs.leftoverInstances", "no drill recovery instance left running", arn)
    described = ", ".join(
        x.instance_id + (f" (launched by {x.execution_id})" if x.execution_id else "") for x in leftovers
    )
    return warning(
        "drs.leftoverInstances",
        f"drill recovery instance(s) still running: {described}; run the drill's cleanup or "
        f"POST /v1/executions/{{id}}/terminate-instances",
        arn,
    )
