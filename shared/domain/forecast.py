"""RTO forecast from past runs (pure): how long each wave of a plan will really take.

For every resource of a wave the expected recovery time is taken from the finished runs of the same
kind (adapter) in the same account and Region; where there is none, the resource's RTO target stands
in. Resources of a wave recover in parallel, so a wave lasts as long as its slowest resource; DRS
servers of one account + Region start in jobs of at most 100, at most 20 jobs at a time, so a wave
with more jobs than that takes several rounds. Waves run one after another: the plan's forecast is
the sum of its waves'.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.domain.batches import DRS_JOB_LIMIT
from shared.domain.preflight import DRS_CONCURRENT_JOBS


@dataclass(frozen=True)
class Kind:
    """What recovers alike: an adapter in one account and Region."""

    adapter: str
    account: str
    region: str


@dataclass(frozen=True)
class PastRun:
    """One finished resource run: its kind, its execution and how long it took."""

    kind: Kind
    execution_id: str
    seconds: float


@dataclass(frozen=True)
class PlannedResource:
    arn: str
    kind: Kind
    target_minutes: float


@dataclass(frozen=True)
class PlannedWave:
    number: int
    resources: Sequence[PlannedResource]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (``fraction`` 0..1) of a non-empty sample."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _rounds(wave: PlannedWave) -> dict[Kind, int]:
    """Sequential rounds per kind: DRS jobs beyond the concurrent-job quota wait for a free slot."""
    servers: dict[Kind, int] = defaultdict(int)
    for resource in wave.resources:
        servers[resource.kind] += 1
    rounds = {}
    for kind, count in servers.items():
        jobs = -(-count // DRS_JOB_LIMIT) if kind.adapter == "drs" else 1
        rounds[kind] = -(-jobs // DRS_CONCURRENT_JOBS)
    return rounds


def forecast(waves: Iterable[PlannedWave], history: Iterable[PastRun], target_minutes: float) -> dict:
    """The ``rtoForecast`` of a plan: p50/p90 minutes, per wave with the resource that dominates it."""
    by_kind: dict[Kind, list[PastRun]] = defaultdict(list)
    for run in history:
        by_kind[run.kind].append(run)
    used_runs: set[str] = set()
    from_history = from_targets = 0
    total50 = total90 = 0.0
    wave_views = []
    for wave in waves:
        rounds = _rounds(wave)
        worst: tuple[float, float, str | None] = (0.0, 0.0, None)
        for resource in wave.resources:
            past = by_kind.get(resource.kind)
            if past:
                from_history += 1
                used_runs.update(r.execution_id for r in past)
                seconds = [r.seconds for r in past]
                p50, p90 = percentile(seconds, 0.5) / 60, percentile(seconds, 0.9) / 60
                p50, p90 = p50 * rounds[resource.kind], p90 * rounds[resource.kind]
            else:
                from_targets += 1
                p50 = p90 = resource.target_minutes
            if (p90, p50) > worst[:2]:
                worst = (p90, p50, resource.arn)
        p90, p50, arn = worst
        total50 += p50
        total90 += p90
        wave_views.append(
            {"wave": wave.number, "p50Minutes": round(p50, 2), "p90Minutes": round(p90, 2), "dominatedBy": arn}
        )
    basis = "history" if from_history and not from_targets else "targets" if not from_history else "mixed"
    return {
        "p50Minutes": round(total50, 2),
        "p90Minutes": round(total90, 2),
        "targetMinutes": target_minutes,
        "basis": basis,
        "runsUsed": len(used_runs),
        "waves": wave_views,
    }
