"""Launch batches, pure: how a wave's resources of a batching adapter are split
(docs/architecture.md, "Launch batches"; the batch's state machine is in ``states.py`` with the others).

Some AWS operations take many resources at once (DRS ``start_recovery``: up to 100 source servers per
job). When a wave starts, its resources of such an adapter are split into batches of at most the
adapter's limit, per (account, region) — one AWS call cannot span accounts or regions. Each resource
keeps its own task; the first task to claim the batch starts the operation for all of it.

A batch knows every operation started for it: the one its claim recorded (``operation_id``) and the
strays (``detail.strays``) — started by a claim that was taken over while it was inside AWS. A later
phase (a drill's cleanup) is told all of them (:class:`EarlierOperations`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.arns import location

DRS_JOB_LIMIT = 100
"""Source servers one DRS ``start_recovery`` job takes (an AWS quota)."""

BATCH_LIMITS: Mapping[str, int] = {"drs": DRS_JOB_LIMIT}
"""Adapters whose resources are started in batches, and the most resources one AWS call takes."""

STRAYS = "strays"
"""The key of a batch's ``detail`` listing the operations started by claims that were taken over."""


@dataclass(frozen=True)
class EarlierOperations:
    """What earlier executions (the chain a later phase follows) started in their launch batches."""

    execution_ids: tuple[str, ...] = ()
    operation_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, execution_ids: Iterable[str], batches: Iterable[Any]) -> EarlierOperations:
        """From batch rows (``operation_id``, ``detail``): each recorded and stray operation once, in order."""
        found: list[str] = []
        for batch in batches:
            strays = (batch.detail or {}).get(STRAYS) or []
            found.extend(op for op in (batch.operation_id, *(s.get("operationId") for s in strays)) if op)
        return cls(tuple(execution_ids), tuple(dict.fromkeys(found)))


@dataclass(frozen=True)
class RunRef:
    """A resource run as the splitter sees it."""

    id: int
    adapter: str
    arn: str


@dataclass(frozen=True)
class PlannedBatch:
    adapter: str
    account_id: str | None
    region: str | None
    run_ids: tuple[int, ...]


def split(runs: Iterable[RunRef], limits: Mapping[str, int] = BATCH_LIMITS) -> list[PlannedBatch]:
    """Batches for the runs of batching adapters, ≤ the adapter's limit each, grouped by (account, region).

    Runs keep their given order inside a group; groups come in order of first appearance. Runs of
    other adapters are left out (they start one by one).
    """
    groups: dict[tuple[str, str | None, str | None], list[int]] = {}
    for run in runs:
        if run.adapter not in limits:
            continue
        account, region = location(run.arn)
        groups.setdefault((run.adapter, account, region), []).append(run.id)
    planned: list[PlannedBatch] = []
    for (adapter, account, region), ids in groups.items():
        size = limits[adapter]
        if size < 1:
            raise ValueError(f"batch limit of {adapter} must be at least 1")
        for start in range(0, len(ids), size):
            planned.append(PlannedBatch(adapter, account, region, tuple(ids[start : start + size])))
    return planned
