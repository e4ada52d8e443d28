"""Preflight of a plan: checks of what AWS reports now, and an RTO forecast from past runs.

Used by ``validate`` (reported), by a start (refused on errors unless forced) and by the scheduler's
continuous readiness (recorded). The plan is resolved as a start would resolve it; each resource is
probed in its account and Region (a registered target account's role when the ARN's account is one);
the forecast draws on the finished runs in Postgres.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shared.aws.discovery import AccountAccess
from shared.aws.preflight import ActionTarget, PreflightProbe, Target
from shared.db.engine import Database
from shared.domain import preflight as rules
from shared.domain.actions import ActionType
from shared.domain.arns import Arn, InvalidArn
from shared.domain.autowaves import AutoWave, rto_estimate_minutes
from shared.domain.errors import PreflightFailed
from shared.domain.forecast import Kind, PastRun, PlannedResource, PlannedWave, forecast
from shared.domain.preflight import Check, Readiness
from shared.store import run_history, target_accounts

from .resolve import ResolvedPlan, Resolver

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    checks: list[Check]
    rto_forecast: dict[str, Any]

    @property
    def status(self) -> Readiness:
        return rules.readiness_of(self.checks)

    @property
    def errors(self) -> list[Check]:
        return rules.errors_of(self.checks)

    def checks_json(self) -> list[dict[str, str]]:
        return [c.as_json() for c in self.checks]


def _place(arn: str, region: str | None) -> tuple[str, str]:
    try:
        parsed = Arn.parse(arn)
    except InvalidArn:
        return "", region or ""
    return parsed.account, parsed.region or region or ""


class Preflight:
    """One per process, built by the composition root (the API's, the scheduler's)."""

    def __init__(self, db: Database, resolver: Resolver, probe: PreflightProbe) -> None:
        self.db = db
        self.resolver = resolver
        self.probe = probe

    def evaluate(self, plan_id: str, resolved: ResolvedPlan | None = None, *, with_forecast: bool = True) -> Evaluation:
        """The checks of a plan (resolved now unless given) and, ``with_forecast``, its RTO forecast."""
        resolved = resolved or self.resolver.plan(plan_id)
        adapters = {f.evaluation.adapter or "" for f in resolved.resources} if with_forecast else set()
        with self.db.engine.connect() as conn:
            accounts = {row.account_id: row for row in target_accounts.list_all(conn)}
            history = run_history.finished_recoveries(conn, adapters)
        checks = [rules.error("plan.resolution", f"{problem.message}") for problem in resolved.problems]
        targets: list[Target] = []
        used_accounts: dict[str, AccountAccess] = {}
        for wave in resolved.waves:
            for found in wave.resources:
                account, region = _place(found.arn, found.region)
                access = AccountAccess()
                registered = accounts.get(account)
                if registered is not None:
                    access = AccountAccess(registered.account_id, registered.role_arn, registered.external_id)
                    used_accounts[account] = access
                targets.append(
                    Target(found.arn, found.evaluation.adapter or "", wave.number, region, access, found.tags)
                )
        actions = [
            self._action_target(run, accounts, used_accounts) for wave in resolved.waves for run in wave.action_runs()
        ]
        checks += [self.probe.role_check(account, access) for account, access in sorted(used_accounts.items())]
        checks += self.probe.checks(targets)
        checks += self.probe.action_checks(actions)
        if not with_forecast:
            return Evaluation(checks, {})
        rto = self.forecast(resolved, history)
        checks.append(rules.rto_forecast_check(rto))
        return Evaluation(checks, rto)

    def _action_target(
        self, run: dict[str, Any], accounts: dict[str, Any], used: dict[str, AccountAccess]
    ) -> ActionTarget:
        """Where a wave action runs (its account's role when that is a registered target account)."""
        spec = run["action"]
        where = spec["planField"]
        if spec["type"] == ActionType.LAMBDA:
            name, field = spec["functionArn"], f"{where}.functionArn"
            account, region = _place(name, None)
        else:
            name, field = spec["documentName"], f"{where}.documentName"
            account, region = spec.get("accountId") or "", spec.get("region") or self.probe.sessions.default_region
        access = AccountAccess()
        registered = accounts.get(account)
        if registered is not None:
            access = used.setdefault(
                account, AccountAccess(registered.account_id, registered.role_arn, registered.external_id)
            )
        return ActionTarget(field, spec["type"], name, region, access)

    def gate(self, resolved: ResolvedPlan, *, force: bool) -> list[dict[str, str]]:
        """Refuse a start whose preflight has errors, unless forced (the API lets only recovery-managers
        and admins send ``force``); the failed checks a forced start overrides."""
        failed = [c.as_json() for c in self.evaluate(resolved.plan_id, resolved, with_forecast=False).errors]
        if failed and not force:  # (the forecast is skipped: it never errs)
            raise PreflightFailed(failed)
        if failed:
            log.warning("start of plan %s forced past %d failed check(s)", resolved.plan_id, len(failed))
        return failed

    @staticmethod
    def forecast(resolved: ResolvedPlan, history: list) -> dict[str, Any]:
        past = []
        for row in history:
            account, region = _place(row.arn, None)
            past.append(PastRun(Kind(row.adapter, account, region), row.execution_id, float(row.seconds)))
        waves = []
        for wave in resolved.waves:
            evaluations = tuple(f.evaluation for f in wave.resources)
            wave_target = AutoWave(wave.number, wave.name, evaluations).rto_target_minutes
            planned = []
            for found in wave.resources:
                account, region = _place(found.arn, found.region)
                target = found.evaluation.rto_minutes or wave_target
                planned.append(
                    PlannedResource(found.arn, Kind(found.evaluation.adapter or "", account, region), target)
                )
            waves.append(PlannedWave(wave.number, planned))
        auto = [AutoWave(w.number, w.name, tuple(f.evaluation for f in w.resources)) for w in resolved.waves]
        return forecast(waves, past, rto_estimate_minutes(auto))
