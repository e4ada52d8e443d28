"""Preflight facts from AWS, through boto3: what each adapter's resources look like right now.

Read-only calls, per account + Region: DRS source servers (replication), jobs (quotas, and which
execution launched a job: its ``drwave:execution`` tag) and recovery instances (drill leftovers);
Aurora global clusters and their secondary's ``AuroraGlobalDBReplicationLag`` in CloudWatch; ECS
clusters and services; Lambda functions, aliases and versions; Route 53 records and health checks; STS
for target accounts' roles. The judgement of the facts is in :mod:`shared.domain.preflight`; an AWS
failure becomes an ``error`` check naming the call (except the Aurora lag, reported only if available).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws.discovery import AccountAccess
from shared.aws.drs_ops import GONE
from shared.aws.errors import describe, is_not_found
from shared.aws.sessions import SessionFactory
from shared.domain import preflight as rules
from shared.domain.actions import CONTEXT_KEY
from shared.domain.arns import Arn, InvalidArn
from shared.domain.preflight import Check, DrsActivity, Leftover

TAG_EXECUTION = "drwave:execution"
TAG_ALIAS, TAG_ALIAS_VERSION = "dr:alias", "dr:alias-version"
GLOBAL_REGION = "us-east-1"
LAG_PERIOD = 60  # seconds per CloudWatch datapoint of the Aurora lag
PAGE = 100


@dataclass(frozen=True)
class Target:
    """One resource to check: where it is, how to reach its account, and its tags."""

    arn: str
    adapter: str
    wave: int
    region: str
    access: AccountAccess = field(default_factory=AccountAccess)
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionTarget:
    """A wave action to check: its plan field, what it names (a function ARN, a document) and where."""

    field: str
    type: str  # lambda | ssm-automation
    name: str
    region: str
    access: AccountAccess = field(default_factory=AccountAccess)


class _Refused(Exception):
    """An AWS call failed; the check it served becomes an error naming the call."""


class PreflightProbe:
    """Gathers the facts of a plan's resources; one per process, built with its session factory."""

    def __init__(self, sessions: SessionFactory, *, max_replication_lag: float) -> None:
        self.sessions = sessions
        self.max_lag = max_replication_lag

    def checks(self, targets: Iterable[Target]) -> list[Check]:
        by_adapter: dict[str, list[Target]] = defaultdict(list)
        for target in targets:
            by_adapter[target.adapter].append(target)
        found: list[Check] = []
        for adapter, probe in (
            ("drs", self._drs),
            ("aurora", self._aurora),
            ("ecs", self._ecs),
            ("lambda", self._lambda),
            ("route53", self._route53),
        ):
            if by_adapter.get(adapter):
                found.extend(probe(by_adapter[adapter]))
        return found

    def action_checks(self, actions: Iterable[ActionTarget]) -> list[Check]:
        """Whether each wave action's function or Automation document exists where it will run, and whether a
        document declares the parameter drwave passes the execution context in (a warning when not)."""
        return [self._action_check(action) for action in actions]

    def _action_check(self, action: ActionTarget) -> Check:
        try:
            if action.type == "lambda":
                lam = self._client("lambda", action.access, action.region)
                _call(lambda: lam.get_function(FunctionName=action.name), "lambda.get_function")
                return rules.ok("action.lambda", f"function {action.name} exists", action.name, action.field)
            ssm = self._client("ssm", action.access, action.region)
            document = _call(lambda: ssm.describe_document(Name=action.name), "ssm.describe_document")["Document"]
        except _NotFound:
            what = "function" if action.type == "lambda" else f"Automation document in {action.region}"
            return rules.error(f"action.{action.type}", f"{action.field}: no {what} {action.name}", None, action.field)
        except _Refused as refused:
            return rules.error(f"action.{action.type}", f"{action.field}: {refused}", None, action.field)
        kind = document.get("DocumentType")
        if kind != "Automation":
            return rules.error(
                "action.ssm-automation",
                f"{action.field}: {action.name} is a {kind} document, not Automation",
                None,
                action.field,
            )
        if CONTEXT_KEY not in {p.get("Name") for p in document.get("Parameters") or []}:
            return rules.warning(
                "action.ssm-automation",
                f"{action.field}: document {action.name} declares no '{CONTEXT_KEY}' parameter, so the automation "
                "is not told the execution (drill or recovery, phase, wave)",
                None,
                action.field,
            )
        return rules.ok(
            "action.ssm-automation", f"document {action.name} exists in {action.region}", None, action.field
        )

    def role_check(self, account_id: str, access: AccountAccess) -> Check:
        """Whether drwave can act in a registered target account (its role is assumed)."""
        try:
            sts = self._client("sts", access, self.sessions.default_region)
            arn = _call(lambda: sts.get_caller_identity(), "sts.get_caller_identity")["Arn"]
        except _Refused as refused:
            return rules.error("targetAccount.role", f"account {account_id}: {refused}", access.role_arn)
        return rules.ok("targetAccount.role", f"account {account_id}: acting as {arn}", access.role_arn)

    # --- DRS ------------------------------------------------------------------------------------

    def _drs(self, targets: list[Target]) -> list[Check]:
        checks: list[Check] = []
        by_place: dict[tuple[str | None, str], list[Target]] = defaultdict(list)
        for target in targets:
            by_place[(target.access.account_id or _account(target.arn), target.region)].append(target)
        for (account, region), group in sorted(by_place.items(), key=lambda item: (item[0][0] or "", item[0][1])):
            where = f"{account or 'drwave account'}/{region}"
            try:
                checks.extend(self._drs_place(where, group))
            except _Refused as refused:
                checks.append(rules.error("drs.api", f"{where}: {refused}"))
        return checks

    def _drs_place(self, where: str, group: list[Target]) -> list[Check]:
        drs = self._client("drs", group[0].access, group[0].region)
        ids = {_resource_id(t.arn): t for t in group}
        servers = {
            s["sourceServerID"]: s
            for s in _pages(drs, "describe_source_servers", filters={"sourceServerIDs": sorted(ids)})
        }
        jobs = list(_pages(drs, "describe_jobs", filters={}))
        running = [j for j in jobs if j.get("status") != "COMPLETED"]
        activity = DrsActivity(len(running), sum(len(j.get("participatingServers") or []) for j in running))
        per_wave: dict[int, int] = defaultdict(int)
        for target in group:
            per_wave[target.wave] += 1
        checks = rules.drs_quota_checks(where, per_wave, activity)
        launched_by = {j["jobID"]: (j.get("tags") or {}).get(TAG_EXECUTION) for j in jobs}
        leftovers: dict[str, list[Leftover]] = defaultdict(list)
        for instance in _pages(drs, "describe_recovery_instances", filters={"sourceServerIDs": sorted(ids)}):
            if instance.get("isDrill") and instance.get("ec2InstanceState") not in GONE:
                leftovers[instance["sourceServerID"]].append(
                    Leftover(instance["recoveryInstanceID"], launched_by.get(instance.get("jobID")))
                )
        for sid, target in sorted(ids.items()):
            server = servers.get(sid)
            if server is None:
                checks.append(rules.error("drs.replication", f"{where}: no DRS source server {sid}", target.arn))
                continue
            info = server.get("dataReplicationInfo") or {}
            checks.append(
                rules.replication_check(
                    target.arn, info.get("dataReplicationState"), info.get("lagDuration"), self.max_lag
                )
            )
            checks.append(rules.leftover_check(target.arn, leftovers.get(sid, [])))
        return checks

    # --- the others -----------------------------------------------------------------------------

    def _aurora(self, targets: list[Target]) -> list[Check]:
        checks = []
        for target in targets:
            name = "aurora.globalCluster"
            try:
                rds = self._client("rds", target.access, target.region)
                arn = Arn.parse(target.arn)
                clusters = _call(lambda rds=rds: rds.describe_global_clusters(), "rds.describe_global_clusters")
                member_of = [
                    g
                    for g in clusters.get("GlobalClusters", [])
                    if (
                        arn.resource.startswith("global-cluster:")
                        and g.get("GlobalClusterIdentifier") == arn.resource_id
                    )
                    or any(m.get("DBClusterArn") == target.arn for m in g.get("GlobalClusterMembers", []))
                ]
            except (_Refused, InvalidArn) as refused:
                checks.append(rules.error(name, str(refused), target.arn))
                continue
            if not member_of:
                checks.append(rules.error(name, "not a member of any Aurora global cluster", target.arn))
                continue
            members = member_of[0].get("GlobalClusterMembers", [])
            secondaries = [
                m["DBClusterArn"]
                for m in members
                if not m.get("IsWriter") and _region(m.get("DBClusterArn", "")) == target.region
            ]
            ident = member_of[0].get("GlobalClusterIdentifier")
            if secondaries:
                checks.append(rules.ok(name, f"global cluster {ident} has a secondary in {target.region}", target.arn))
                checks.append(self._aurora_lag(target, secondaries[0]))
            else:
                checks.append(
                    rules.error(name, f"global cluster {ident} has no secondary cluster in {target.region}", target.arn)
                )
        return checks

    def _aurora_lag(self, target: Target, secondary_arn: str) -> Check:
        """The secondary's latest ``AuroraGlobalDBReplicationLag`` (CloudWatch, milliseconds) of the last
        few minutes, judged against ``DRWAVE_MAX_REPLICATION_LAG``."""
        secondary = _resource_id(secondary_arn)
        now = datetime.now(UTC)
        try:
            cloudwatch = self._client("cloudwatch", target.access, target.region)
            answer = _call(
                lambda: cloudwatch.get_metric_statistics(
                    Namespace="AWS/RDS",
                    MetricName=rules.AURORA_LAG_METRIC,
                    Dimensions=[{"Name": "DBClusterIdentifier", "Value": secondary}],
                    StartTime=now - timedelta(seconds=rules.AURORA_LAG_WINDOW_SECONDS),
                    EndTime=now + timedelta(seconds=LAG_PERIOD),  # exclusive, whole seconds: include now's point
                    Period=LAG_PERIOD,
                    Statistics=["Maximum"],
                ),
                "cloudwatch.get_metric_statistics",
            )
        except _Refused as refused:
            return rules.aurora_lag_check(target.arn, secondary, None, self.max_lag, str(refused))
        points = sorted(answer.get("Datapoints", []), key=lambda p: p["Timestamp"])
        lag = points[-1]["Maximum"] if points else None
        return rules.aurora_lag_check(target.arn, secondary, lag, self.max_lag)

    def _ecs(self, targets: list[Target]) -> list[Check]:
        return [self._ecs_check(t) for t in targets]

    def _ecs_check(self, target: Target) -> Check:
        name = "ecs.service"
        try:
            parts = Arn.parse(target.arn).resource.split("/")
            if len(parts) != 3:
                raise InvalidArn(f"{target.arn} is not an ECS service ARN (service/<cluster>/<name>)")
            ecs = self._client("ecs", target.access, target.region)
            clusters = _call(lambda: ecs.describe_clusters(clusters=[parts[1]]), "ecs.describe_clusters")
            if not [c for c in clusters.get("clusters", []) if c.get("status") == "ACTIVE"]:
                return rules.error(name, f"ECS cluster {parts[1]} does not exist", target.arn)
            services = _call(
                lambda: ecs.describe_services(cluster=parts[1], services=[target.arn]), "ecs.describe_services"
            )
        except (_Refused, InvalidArn) as refused:
            return rules.error(name, str(refused), target.arn)
        if [s for s in services.get("services", []) if s.get("status") == "ACTIVE"]:
            return rules.ok(name, f"service {parts[2]} exists in cluster {parts[1]}", target.arn)
        return rules.error(name, f"ECS service {parts[2]} does not exist in cluster {parts[1]}", target.arn)

    def _lambda(self, targets: list[Target]) -> list[Check]:
        return [self._lambda_check(t) for t in targets]

    def _lambda_check(self, target: Target) -> Check:
        client = self._client("lambda", target.access, target.region)
        alias = (target.tags.get(TAG_ALIAS) or "").strip()
        version = (target.tags.get(TAG_ALIAS_VERSION) or "").strip()
        asks: list[tuple[str, Callable[[], Any]]] = [("function", lambda: client.get_function(FunctionName=target.arn))]
        if alias:
            asks.append((f"alias {alias}", lambda: client.get_alias(FunctionName=target.arn, Name=alias)))
        if version:
            asks.append((f"version {version}", lambda: client.get_function(FunctionName=target.arn, Qualifier=version)))
        missing = []
        for what, ask in asks:
            try:
                _call(ask, f"lambda {what}")
            except _NotFound:
                missing.append(what)
            except _Refused as refused:
                missing.append(f"{what} ({refused})")
        if missing:
            return rules.error("lambda.function", "missing: " + ", ".join(missing), target.arn)
        return rules.ok("lambda.function", ", ".join(what for what, _ in asks) + " exist", target.arn)

    def _route53(self, targets: list[Target]) -> list[Check]:
        return [self._route53_check(t) for t in targets]

    def _route53_check(self, target: Target) -> Check:
        try:
            parts = Arn.parse(target.arn).resource.split("/")
        except InvalidArn as invalid:
            return rules.error("route53.record", str(invalid), target.arn)
        name = "route53.healthCheck" if parts[0] == "healthcheck" else "route53.record"
        r53 = self._client("route53", target.access, GLOBAL_REGION)
        try:
            if parts[0] == "healthcheck":
                _call(lambda: r53.get_health_check(HealthCheckId=parts[1]), "route53.get_health_check")
                return rules.ok(name, f"health check {parts[1]} exists", target.arn)
            if len(parts) >= 5 and parts[2] == "recordset":
                return self._record(r53, target.arn, parts)
            _call(lambda: r53.get_hosted_zone(Id=parts[1]), "route53.get_hosted_zone")
            return rules.ok(name, f"hosted zone {parts[1]} exists", target.arn)
        except _NotFound:
            return rules.error(name, f"{'/'.join(parts[:2])} does not exist", target.arn)
        except _Refused as refused:
            return rules.error(name, str(refused), target.arn)

    @staticmethod
    def _record(r53: Any, arn: str, parts: list[str]) -> Check:
        zone, name, kind = parts[1], parts[3].rstrip(".").lower(), parts[4].upper()
        listed = _call(
            lambda: r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=name, StartRecordType=kind),
            "route53.list_resource_record_sets",
        )
        found = [
            r
            for r in listed.get("ResourceRecordSets", [])
            if r["Name"].rstrip(".").lower() == name
            and r["Type"] == kind
            and (len(parts) < 6 or r.get("SetIdentifier") == parts[5])
        ]
        if not found:
            return rules.error("route53.record", f"record {name} {kind} does not exist in zone {zone}", arn)
        return rules.ok("route53.record", f"record {name} {kind} exists in zone {zone}", arn)

    def _client(self, service: str, access: AccountAccess, region: str) -> Any:
        return access.client(self.sessions, service, region)


class _NotFound(_Refused):
    pass


def _call(call: Callable[[], Any], what: str) -> Any:
    try:
        return call()
    except (ClientError, BotoCoreError) as failure:
        if is_not_found(failure):
            raise _NotFound(f"{what}: {describe(failure)}") from failure
        raise _Refused(f"{what}: {describe(failure)}") from failure


def _pages(client: Any, operation: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
    paginator = client.get_paginator(operation).paginate(**kwargs, PaginationConfig={"PageSize": PAGE})
    iterator = iter(paginator)
    while True:
        page = _call(lambda: next(iterator, None), f"drs.{operation}")
        if page is None:
            return
        yield from page.get("items", [])


def _resource_id(arn: str) -> str:
    try:
        return Arn.parse(arn).resource_id
    except InvalidArn:
        return arn


def _account(arn: str) -> str | None:
    try:
        return Arn.parse(arn).account or None
    except InvalidArn:
        return None


def _region(arn: str) -> str | None:
    try:
        return Arn.parse(arn).region or None
    except InvalidArn:
        return None
