"""Preview a selection, list discovered resources, validate a plan (dry run) — all resolved now.

Nothing here writes: each call resolves through :class:`.resolve.Resolver` (which asks AWS) and turns
the result into the API's read models. Plan validation reports what a start now would do:

* errors — the plan cannot be resolved (unregistered account, AWS refusing, …) or has no resource;
* warnings — ``INVALID_TAGS`` (a start needs ``skipInvalid``), ``RESOURCE_IN_ACTIVE_EXECUTION``
  (another plan's execution holds it: a start gets 409), ``PLAN_ALREADY_EXECUTING``,
  ``WAVE_EXCEEDS_DRS_JOB_QUOTA`` (more DRS servers than one DRS job takes), ``EMPTY_WAVE``;
* ``ready`` — a start now would be accepted without ``skipInvalid``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from shared.db.engine import Database
from shared.domain.autowaves import AutoWave, group_into_waves, rto_estimate_minutes
from shared.domain.batches import DRS_JOB_LIMIT
from shared.store import executions, resource_locks

from ..errors import code_of
from ..schemas import PreviewRequest, ResourceQuery
from .preflight import Preflight
from .resolve import Found, ResolvedPlan, ResolvedWave, Resolver, tag_errors


class DiscoveryCommands:
    def __init__(self, db: Database, resolver: Resolver, preflight: Preflight):
        self.db = db
        self.resolver = resolver
        self.preflight = preflight

    def preview(self, request: PreviewRequest) -> dict[str, Any]:
        """Resolve a selection now: every resource with its derived wave, adapter, RTO and errors."""
        selection = request.selection.stored()
        found = self.resolver.selection(request.account_id, request.region, selection)
        waves = group_into_waves(f.evaluation for f in found)
        counts = count(found)
        where = f"{request.account_id or 'drwave account'}/{request.region}"
        message = f"{describe_selection(selection)} in {where}: {summary(counts)}"
        if waves:
            message += f"; waves {', '.join(str(w.number) for w in waves)}"
        return {
            "message": message,
            "account_id": request.account_id,
            "region": request.region,
            "selection": selection,
            "counts": counts,
            "waves": [derived_wave(w) for w in waves],
            "resources": [resource_view(f) for f in found],
        }

    def resources(self, query: ResourceQuery) -> dict[str, Any]:
        """The DR-tagged resources of an account + region matching ``tag`` filters."""
        tags = query.tags()
        found = self.resolver.selection(query.account_id, query.region, {"tags": tags})
        counts = count(found)
        where = f"{query.account_id or 'drwave account'}/{query.region}"
        return {
            "message": f"{describe_selection({'tags': tags})} in {where}: {summary(counts)}",
            "counts": counts,
            "items": [resource_view(f) for f in found],
        }

    def validate_plan(self, plan_id: str) -> dict[str, Any]:
        """The plan as a start now would run it, with errors, warnings and an RTO estimate."""
        resolved = self.resolver.plan(plan_id)
        empty = resolved.nothing_to_recover()
        errors = [
            finding(code_of(p), p.message, **p.details) for p in [*resolved.problems, *([empty] if empty else [])]
        ]
        with self.db.engine.connect() as conn:
            active = executions.active_for_plan(conn, plan_id)
            held = resource_locks.holders(conn, (f.arn for f in resolved.resources))
        conflicts = {arn: holder for arn, holder in held.items() if holder[1] != plan_id}
        warnings = [
            *invalid_warnings(resolved.invalid),
            *conflict_warnings(conflicts),
            *([already_executing(plan_id, active)] if active else []),
            *wave_warnings(resolved),
        ]
        evaluation = self.preflight.evaluate(plan_id, resolved)
        ready = not errors and not resolved.invalid and not conflicts and active is None and not evaluation.errors
        estimate = rto_estimate_minutes(as_auto_waves(resolved))
        message = (
            f"Plan '{resolved.plan_name}' ({plan_id}) would run {len(resolved.waves)} waves, "
            f"{len(resolved.resources)} resources now; RTO estimate {estimate} min; "
            f"{len(errors)} error(s), {len(warnings)} warning(s)" + ("" if ready else "; not ready to start")
        )
        return {
            "message": message,
            "plan_id": plan_id,
            "plan_version": resolved.plan_version,
            "ready": ready,
            "rto_estimate_minutes": estimate,
            "waves": [validated_wave(w) for w in resolved.waves],
            "invalid_resources": [resource_view(f) for f in resolved.invalid],
            "errors": errors,
            "warnings": warnings,
            "checks": evaluation.checks_json(),
            "rto_forecast": evaluation.rto_forecast,
        }


# --- read models -----------------------------------------------------------------------------------


def resource_view(found: Found) -> dict[str, Any]:
    e = found.evaluation
    status = "valid" if e.valid else ("invalid" if e.errors else "not-enrolled")
    return {
        "arn": e.arn,
        "region": found.region,
        "status": status,
        "enrolled": e.enrolled,
        "wave": e.wave,
        "priority": e.priority,
        "adapter": e.adapter,
        "rto_target_minutes": e.rto_minutes,
        "tags": dict(found.tags),
        "errors": tag_errors(found),
    }


def count(found: list[Found]) -> dict[str, int]:
    valid = sum(1 for f in found if f.evaluation.valid)
    invalid = sum(1 for f in found if f.evaluation.errors)
    return {"total": len(found), "valid": valid, "invalid": invalid, "not_enrolled": len(found) - valid - invalid}


def summary(counts: Mapping[str, int]) -> str:
    return (
        f"{counts['total']} resources, {counts['valid']} valid, {counts['invalid']} invalid, "
        f"{counts['not_enrolled']} not enrolled"
    )


def describe_selection(selection: Mapping[str, Any]) -> str:
    if "tags" in selection:
        tags = selection["tags"]
        return "tags " + (", ".join(f"{k}={v}" for k, v in sorted(tags.items())) if tags else "(any)")
    return f"{len(selection.get('resourceArns', []))} explicit ARNs"


def derived_wave(wave: AutoWave) -> dict[str, Any]:
    return {
        "number": wave.number,
        "name": wave.name,
        "resource_count": len(wave.resources),
        "rto_target_minutes": wave.rto_target_minutes,
    }


def as_auto_waves(resolved: ResolvedPlan) -> list[AutoWave]:
    return [AutoWave(w.number, w.name, tuple(f.evaluation for f in w.resources)) for w in resolved.waves]


def validated_wave(wave: ResolvedWave) -> dict[str, Any]:
    evaluations = tuple(f.evaluation for f in wave.resources)
    return {
        "number": wave.number,
        "name": wave.name,
        "pause_before_wave": wave.pause_before,
        "on_failure": wave.on_failure,
        "timeout_seconds": wave.timeout_seconds,
        "rto_target_minutes": AutoWave(wave.number, wave.name, evaluations).rto_target_minutes,
        "adapters": dict(sorted(Counter(e.adapter or "none" for e in evaluations).items())),
        "resources": [resource_view(f) for f in wave.resources],
    }


def finding(code: str, message: str, *, arn: str | None = None, wave: int | None = None, **details: Any) -> dict:
    return {"code": code, "message": message, "arn": arn, "wave": wave, "details": details}


def invalid_warnings(invalid: Iterable[Found]) -> list[dict[str, Any]]:
    return [
        finding(
            "INVALID_TAGS",
            "; ".join(e.message for e in f.evaluation.errors) + " A start needs skipInvalid: true.",
            arn=f.arn,
            errors=tag_errors(f),
        )
        for f in invalid
    ]


def conflict_warnings(conflicts: Mapping[str, tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        finding(
            "RESOURCE_IN_ACTIVE_EXECUTION",
            f"{arn} is being recovered by execution {execution_id} of plan {plan_id}; a start now gets 409",
            arn=arn,
            executionId=execution_id,
            planId=plan_id,
        )
        for arn, (execution_id, plan_id) in sorted(conflicts.items())
    ]


def already_executing(plan_id: str, execution_id: str) -> dict[str, Any]:
    return finding("PLAN_ALREADY_EXECUTING", f"plan {plan_id} is executing as {execution_id}", executionId=execution_id)


def wave_warnings(resolved: ResolvedPlan) -> list[dict[str, Any]]:
    warnings = []
    for wave in resolved.waves:
        drs = sum(1 for f in wave.resources if f.evaluation.adapter == "drs")
        if drs > DRS_JOB_LIMIT:
            jobs = -(-drs // DRS_JOB_LIMIT)
            warnings.append(
                finding(
                    "WAVE_EXCEEDS_DRS_JOB_QUOTA",
                    f"wave {wave.number} '{wave.name}' has {drs} DRS source servers, more than the {DRS_JOB_LIMIT} "
                    f"one DRS job takes; it will start {jobs} jobs",
                    wave=wave.number,
                    drsServers=drs,
                    quota=DRS_JOB_LIMIT,
                )
            )
        if not wave.resources:
            warnings.append(
                finding(
                    "EMPTY_WAVE",
                    f"wave {wave.number} '{wave.name}' has no resources now; it will be skipped",
                    wave=wave.number,
                )
            )
    return warnings
