"""Resolve a plan's waves into concrete resources at start time (stored on the execution, so later
changes to groups do not alter a running execution)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from shared.domain.simulated import InvalidSimulatedArn, parse_simulated_arn
from shared.domain.tags import adapter_for_arn
from shared.store import groups


@dataclass(frozen=True)
class ResolvedResource:
    arn: str
    adapter: str | None
    problem: str | None = None


@dataclass
class ResolvedWave:
    number: int
    name: str
    pause_before: bool
    on_failure: str
    timeout_seconds: int
    resources: list[ResolvedResource] = field(default_factory=list)


def resolve_plan(conn: Connection, plan_waves: list[dict]) -> list[ResolvedWave]:
    group_ids = sorted({gid for wave in plan_waves for gid in wave["protectionGroupIds"]})
    by_id = groups.get_many(conn, group_ids)
    seen: set[str] = set()
    resolved: list[ResolvedWave] = []
    for number, wave in enumerate(plan_waves, start=1):
        target = ResolvedWave(number, wave["name"], wave["pauseBeforeWave"], wave["onFailure"], wave["timeoutSeconds"])
        for gid in wave["protectionGroupIds"]:
            group = by_id.get(gid)
            for arn in group.selection.get("resourceArns", []) if group is not None else []:
                if arn not in seen:  # a resource in two waves runs in the first
                    seen.add(arn)
                    target.resources.append(_resource(arn))
        resolved.append(target)
    return resolved


def _resource(arn: str) -> ResolvedResource:
    adapter = adapter_for_arn(arn)
    if adapter is None:
        return ResolvedResource(arn, None, "no adapter recovers this kind of resource")
    if adapter == "simulated":
        try:
            parse_simulated_arn(arn)
        except InvalidSimulatedArn as error:
            return ResolvedResource(arn, adapter, str(error))
    return ResolvedResource(arn, adapter)
