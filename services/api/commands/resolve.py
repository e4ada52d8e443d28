"""Resolve selections and plans into concrete resources, now (docs/architecture.md, "Resolving").

* ``{"resourceArns": [...]}`` needs no AWS call: each ARN is enrolled as given, its adapter follows
  its service (:func:`shared.domain.tags.adapter_for_arn`; simulated ARNs are parsed).
* ``{"tags": {...}}`` is discovered through boto3 in the selection's account + region
  (:class:`shared.aws.discovery.Discovery`) and each resource's tags are evaluated
  (:func:`shared.domain.tags.evaluate`): wave, adapter, RTO target, errors.
* A plan with explicit ``waves`` puts every valid resource of a wave's groups in that wave (a resource
  in two waves runs in the first); an ``autoWaves`` plan groups its selection by ``dr:wave`` /
  ``dr:priority`` (:func:`shared.domain.autowaves.group_into_waves`), keeping the wave numbers.

An execution stores what its start resolved (resource runs), so later tag or group changes do not
alter it. Database reads happen first, on a connection that is closed before AWS is asked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row

from shared.aws.discovery import AccountAccess, Discovery, DiscoveryError
from shared.db.engine import Database
from shared.domain.actions import runs_for_wave
from shared.domain.autowaves import group_into_waves
from shared.domain.errors import (
    AccountNotRegistered,
    AwsRefused,
    AwsUnavailable,
    DomainError,
    MissingProtectionGroup,
    NoResources,
    RegionNotEnabled,
)
from shared.domain.progress import DEFAULT_WAVE_TIMEOUT_SECONDS
from shared.domain.simulated import InvalidSimulatedArn, parse_simulated_arn
from shared.domain.tags import TAG_STRATEGY, UNKNOWN_SERVICE, TagError, TagEvaluation, adapter_for_arn, evaluate
from shared.store import groups, target_accounts

from . import lookups

INVALID_ARN = "INVALID_ARN"


@dataclass(frozen=True)
class Found:
    """One resolved resource: its tag evaluation, the tags it was evaluated from and where it lives."""

    evaluation: TagEvaluation
    tags: Mapping[str, str] = field(default_factory=dict)
    region: str | None = None

    @property
    def arn(self) -> str:
        return self.evaluation.arn


@dataclass
class ResolvedWave:
    number: int
    name: str
    pause_before: bool
    on_failure: str
    timeout_seconds: int
    resources: list[Found] = field(default_factory=list)
    pre_actions: list[dict[str, Any]] = field(default_factory=list)  # as stored with the plan (camelCase)
    post_actions: list[dict[str, Any]] = field(default_factory=list)
    region: str | None = None  # of its first protection group (of an auto-waved plan's selection): where
    account_id: str | None = None  # its SSM actions run by default
    where: str | None = None  # its actions' place in the plan (default waves[number - 1])

    def action_runs(self) -> list[dict[str, Any]]:
        """The resource-run rows of its actions (:func:`shared.domain.actions.runs_for_wave`)."""
        return runs_for_wave(
            self.number,
            self.pre_actions,
            self.post_actions,
            region=self.region,
            account_id=self.account_id,
            where=self.where,
        )

    @property
    def rto_target_minutes(self) -> int | None:
        """The wave's RTO target: the longest of its resources' (as validate reports it; None when none has one)."""
        targets = [f.evaluation.rto_minutes for f in self.resources if f.evaluation.rto_minutes]
        return max(targets) if targets else None


@dataclass
class ResolvedPlan:
    plan_id: str
    plan_name: str
    plan_version: int
    waves: list[ResolvedWave]
    invalid: list[Found] = field(default_factory=list)
    not_enrolled: list[Found] = field(default_factory=list)
    problems: list[DomainError] = field(default_factory=list)  # why a selection could not be resolved
    group_versions: dict[str, int] = field(default_factory=dict)

    @property
    def resources(self) -> list[Found]:
        """Every resource the execution would recover, wave by wave."""
        return [found for wave in self.waves for found in wave.resources]

    def nothing_to_recover(self) -> NoResources | None:
        """The problem of a plan that resolves to no valid resource: a start is refused."""
        if self.resources or self.problems:
            return None
        skipped = f" ({len(self.invalid)} invalid left out)" if self.invalid else ""
        return NoResources(f"plan {self.plan_id} resolves to no resource to recover now{skipped}", planId=self.plan_id)


@dataclass(frozen=True)
class _Selection:
    """A selection with everything read from Postgres that resolving it needs."""

    account_id: str | None
    region: str
    selection: Mapping[str, Any]
    account: Row | None  # the registered target account, when account_id names one


class Resolver:
    """Resolves selections and plans; one per process, built by the API's composition root."""

    def __init__(self, db: Database, discovery: Discovery) -> None:
        self.db = db
        self.discovery = discovery
        self._home_account: str | None = None
        self._lock = threading.Lock()

    # --- entry points ----------------------------------------------------------------------------

    def selection(self, account_id: str | None, region: str, selection: Mapping[str, Any]) -> list[Found]:
        """Resolve one selection now; raises a :class:`DomainError` when it cannot be resolved."""
        with self.db.engine.connect() as conn:
            target = self._read_selection(conn, account_id, region, selection)
        return self._resolve(target)

    def plan(self, plan_id: str) -> ResolvedPlan:
        """Resolve a live plan now (:class:`PlanNotFound` when there is none); unresolvable selections are
        in ``problems``."""
        with self.db.engine.connect() as conn:
            plan = lookups.plan(conn, plan_id, field="planId")
            if plan.auto_waves is not None:
                spec = plan.auto_waves
                selection = {"tags": spec.get("tags") or {}}
                auto = self._read_selection(conn, spec.get("accountId"), spec["region"], selection)
            else:
                group_ids = sorted({gid for wave in plan.waves for gid in wave["protectionGroupIds"]})
                by_id = groups.get_many(conn, group_ids)
                selections = {
                    gid: self._read_selection(conn, row.account_id, row.region, row.selection)
                    for gid, row in by_id.items()
                }
        # the connection is back in the pool before AWS is asked
        if plan.auto_waves is not None:
            return self._auto_plan(plan, auto)
        return self._explicit_plan(plan, by_id, selections)

    # --- plans -----------------------------------------------------------------------------------

    def _auto_plan(self, plan: Row, target: _Selection) -> ResolvedPlan:
        spec = plan.auto_waves
        resolved = ResolvedPlan(plan.id, plan.name, plan.version, waves=[])
        try:
            found = self._resolve(target)
        except DomainError as problem:
            resolved.problems.append(problem)
            return resolved
        by_arn = {f.arn: f for f in found}
        gates = set(spec.get("pauseBeforeWaves") or [])
        actions = {entry["wave"]: (index, entry) for index, entry in enumerate(spec.get("waveActions") or [])}
        for wave in group_into_waves(f.evaluation for f in found):
            index, entry = actions.get(wave.number, (None, {}))
            resolved.waves.append(
                ResolvedWave(
                    number=wave.number,
                    name=wave.name,
                    pause_before=wave.number in gates,
                    on_failure=spec.get("onFailure", "continue"),
                    timeout_seconds=int(spec.get("timeoutSeconds", DEFAULT_WAVE_TIMEOUT_SECONDS)),
                    resources=[by_arn[e.arn] for e in wave.resources],
                    pre_actions=list(entry.get("preActions") or []),
                    post_actions=list(entry.get("postActions") or []),
                    region=spec["region"],
                    account_id=spec.get("accountId"),
                    where=f"autoWaves.waveActions[{index}]" if index is not None else None,
                )
            )
        _sort_rest(resolved, found)
        return resolved

    def _explicit_plan(self, plan: Row, by_id: dict[str, Row], selections: dict[str, _Selection]) -> ResolvedPlan:
        resolved = ResolvedPlan(
            plan.id, plan.name, plan.version, waves=[], group_versions={gid: row.version for gid, row in by_id.items()}
        )
        cache: dict[str, list[Found]] = {}
        seen: set[str] = set()
        everything: list[Found] = []
        for number, wave in enumerate(plan.waves, start=1):
            first = by_id.get(wave["protectionGroupIds"][0]) if wave["protectionGroupIds"] else None
            target = ResolvedWave(
                number,
                wave["name"],
                wave["pauseBeforeWave"],
                wave["onFailure"],
                wave["timeoutSeconds"],
                pre_actions=list(wave.get("preActions") or []),
                post_actions=list(wave.get("postActions") or []),
                region=first.region if first is not None else None,
                account_id=first.account_id if first is not None else None,
            )
            for gid in wave["protectionGroupIds"]:
                if gid not in selections:
                    resolved.problems.append(MissingProtectionGroup(f"wave {number}", gid))
                    continue
                found = cache.get(gid)
                if found is None:
                    try:
                        found = cache[gid] = self._resolve(selections[gid])
                    except DomainError as problem:
                        resolved.problems.append(problem.within(f"group {gid}: ", protectionGroupId=gid))
                        cache[gid] = []
                        continue
                everything.extend(found)
                for item in found:
                    if item.evaluation.valid and item.arn not in seen:  # a resource in two waves runs in the first
                        seen.add(item.arn)
                        target.resources.append(item)
            resolved.waves.append(target)
        _sort_rest(resolved, everything)
        return resolved

    # --- selections ------------------------------------------------------------------------------

    def _read_selection(
        self, conn: Connection, account_id: str | None, region: str, selection: Mapping[str, Any]
    ) -> _Selection:
        account = target_accounts.get(conn, account_id) if account_id and "tags" in selection else None
        return _Selection(account_id, region, selection, account)

    def _resolve(self, target: _Selection) -> list[Found]:
        if "tags" not in target.selection:
            return [_explicit(arn) for arn in target.selection.get("resourceArns", [])]
        access = self._access(target)
        try:
            discovered = self.discovery.resources(access, target.region, target.selection["tags"])
        except DiscoveryError as error:
            raise aws_problem(error, target.account_id) from error
        return [Found(evaluate(d.arn, d.tags), dict(d.tags), d.region) for d in discovered]

    def _access(self, target: _Selection) -> AccountAccess:
        account = target.account
        if account is not None:
            if target.region not in account.regions:
                raise RegionNotEnabled(
                    f"region: {target.region} is not one of the regions of target account "
                    f"{account.account_id} ({', '.join(account.regions)})",
                    field="region",
                    accountId=account.account_id,
                )
            return AccountAccess(account.account_id, account.role_arn, account.external_id)
        if target.account_id is not None and target.account_id != self.home_account():
            raise AccountNotRegistered(
                f"accountId: {target.account_id} is not a registered target account (POST /v1/target-accounts) "
                f"nor the account drwave runs in ({self.home_account()})",
                field="accountId",
                accountId=target.account_id,
            )
        return AccountAccess(target.account_id)

    def home_account(self) -> str:
        """The account of drwave's own credentials (asked once per process)."""
        with self._lock:
            if self._home_account is None:
                try:
                    self._home_account = self.discovery.caller_identity(AccountAccess())[0]
                except DiscoveryError as error:
                    raise aws_problem(error, None) from error
            return self._home_account


def aws_problem(error: DiscoveryError, account_id: str | None) -> AwsUnavailable | AwsRefused:
    """An AWS failure as a domain error: unavailable when waiting may help, else refused."""
    where = f"account {account_id or 'of drwave'}, {error.region}"
    details = {"accountId": account_id, "region": error.region, "awsErrorCode": error.code}
    if error.retryable:
        return AwsUnavailable(f"AWS did not answer ({where}): {error.message}; try again", **details)
    return AwsRefused(f"AWS refused discovery ({where}): {error.message}", **details)


def _explicit(arn: str) -> Found:
    """An explicitly selected ARN: enrolled as given, adapter from its service, no tags read."""
    adapter = adapter_for_arn(arn)
    errors: tuple[TagError, ...] = ()
    if adapter is None:
        message = f"Resource {arn}: no adapter recovers this kind of resource"
        errors = (TagError(arn, TAG_STRATEGY, None, UNKNOWN_SERVICE, message),)
    elif adapter == "simulated":
        try:
            parse_simulated_arn(arn)
        except InvalidSimulatedArn as error:
            errors = (TagError(arn, "arn", arn, INVALID_ARN, str(error)),)
    evaluation = TagEvaluation(
        arn=arn, enrolled=True, wave=None, priority=None, rto_minutes=None, adapter=adapter, errors=errors
    )
    return Found(evaluation)


def _sort_rest(resolved: ResolvedPlan, found: Iterable[Found]) -> None:
    """Fill ``invalid`` (with errors) and ``not_enrolled`` (opted out), each once per ARN, by ARN."""
    invalid: dict[str, Found] = {}
    not_enrolled: dict[str, Found] = {}
    for item in found:
        if item.evaluation.errors:
            invalid.setdefault(item.arn, item)
        elif not item.evaluation.enrolled:
            not_enrolled.setdefault(item.arn, item)
    resolved.invalid = [invalid[arn] for arn in sorted(invalid)]
    resolved.not_enrolled = [not_enrolled[arn] for arn in sorted(not_enrolled)]


def tag_errors(found: Found) -> list[dict[str, Any]]:
    """A resource's validation errors as JSON: tag, value, code, message."""
    return [{"tag": e.tag, "value": e.value, "code": e.code, "message": e.message} for e in found.evaluation.errors]
