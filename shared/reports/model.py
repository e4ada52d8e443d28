"""Build the report document from an execution's rows. Pure: no I/O.

Times are the database's; durations are seconds. A gate's wait runs from the pause to the resume (or to
the end of the execution); the RTO "excluding gate waits" subtracts them, because an auditor asks both
"how long did the recovery take" and "how long did the machines take".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.domain.retry import attempts_of
from shared.domain.states import RESOURCE_FAILED

FAILED_STATUSES = frozenset(s.value for s in RESOURCE_FAILED)
PAUSE_ENDS = ("execution.running", "execution.retried", "execution.cancelling")


@dataclass(frozen=True)
class Inputs:
    """What a report is made of; rows are anything with the table's column names as attributes."""

    execution: Any
    waves: Sequence[Any]
    runs: Sequence[Any]
    events: Sequence[Any]  # the timeline, in order
    approvals: Sequence[Any] = ()  # approval requests with a `grants` list each
    now: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def gate_waits(events: Iterable[Any], end: datetime) -> list[dict[str, Any]]:
    """Each pause of the execution: from `execution.paused` to the next resume, retry or cancel (or the end)."""
    waits: list[dict[str, Any]] = []
    opened: Any = None
    for event in events:
        if event.kind == "execution.paused":
            opened = event
        elif event.kind in PAUSE_ENDS and opened is not None:
            waits.append({"from": opened.at, "to": event.at, "message": opened.message})
            opened = None
    if opened is not None:
        waits.append({"from": opened.at, "to": end, "message": opened.message})
    return waits


def build(inputs: Inputs) -> dict[str, Any]:
    ex = inputs.execution
    end = ex.finished_at or inputs.now or ex.updated_at
    start = ex.started_at or ex.created_at
    gates = gate_waits(inputs.events, end)
    gate_seconds = round(sum((g["to"] - g["from"]).total_seconds() for g in gates), 3)
    by_wave: dict[int, list[Any]] = {}
    for run in inputs.runs:
        by_wave.setdefault(run.wave_number, []).append(run)
    approvals_by_wave: dict[int, list[dict[str, Any]]] = {}
    for request in inputs.approvals:
        approvals_by_wave.setdefault(request.wave_number, []).extend(
            {"by": g.approver, "role": g.role, "comment": g.comment, "at": _iso(g.at), "status": request.status}
            for g in request.grants
        )
    waves = [_wave(w, by_wave.get(w.number, []), approvals_by_wave.get(w.number, [])) for w in inputs.waves]
    duration = _seconds(start if ex.started_at else None, end)
    targets = [w["rtoTargetMinutes"] for w in waves if w["rtoTargetMinutes"] is not None]
    target = sum(targets) if targets else None
    excluding = round(duration - gate_seconds, 3) if duration is not None else None
    return {
        "execution": ex.id,
        "plan": {"id": ex.plan_id, "name": ex.plan_name},
        "mode": ex.mode,
        "phase": ex.phase,
        "status": ex.status,
        "statusReason": ex.status_reason,
        "startedBy": ex.created_by,
        "reason": ex.reason,
        "sourceExecutionId": ex.source_execution_id,
        "createdAt": _iso(ex.created_at),
        "startedAt": _iso(ex.started_at),
        "finishedAt": _iso(ex.finished_at),
        "durationSeconds": duration,
        "gateWaitSeconds": gate_seconds,
        "gates": [
            {
                "from": _iso(g["from"]),
                "to": _iso(g["to"]),
                "seconds": _seconds(g["from"], g["to"]),
                "reason": g["message"],
            }
            for g in gates
        ],
        "rto": {
            "targetMinutes": target,
            "actualSeconds": duration,
            "actualExcludingGatesSeconds": excluding,
            "met": None if target is None or excluding is None else excluding <= target * 60,
        },
        "counts": dict(Counter(r.status for r in inputs.runs)),
        "retries": [
            {"at": _iso(e.at), "by": e.actor, "message": e.message}
            for e in inputs.events
            if e.kind == "execution.retried"
        ],
        "waves": waves,
        **dict(inputs.extra),
    }


def _action(run: Any) -> dict[str, Any]:
    """A pre- or post-wave action as the report lists it (docs/architecture.md, "Wave actions")."""
    spec = run.action
    return {
        "name": run.arn,
        "phase": spec.get("when"),
        "type": spec.get("type"),
        "target": spec.get("functionArn") or spec.get("documentName"),
        "status": run.status,
        "startedAt": _iso(run.started_at),
        "finishedAt": _iso(run.finished_at),
        "error": run.error,
        "output": (run.detail or {}).get("output"),
        **_attempts(run),
    }


def _attempts(run: Any) -> dict[str, Any]:
    """A run's current attempt and every attempt, oldest first: a retried run keeps its history."""
    return {"attempt": getattr(run, "attempt", None) or 1, "attempts": attempts_of(run)}


def _wave(wave: Any, runs: list[Any], approvals: list[dict[str, Any]]) -> dict[str, Any]:
    duration = _seconds(wave.started_at, wave.finished_at)
    target = wave.rto_target_minutes
    actions = sorted((r for r in runs if getattr(r, "action", None)), key=lambda r: r.stage)
    runs = [r for r in runs if not getattr(r, "action", None)]
    return {
        "number": wave.number,
        "name": wave.name,
        "status": wave.status,
        "statusReason": wave.status_reason,
        "startedAt": _iso(wave.started_at),
        "finishedAt": _iso(wave.finished_at),
        "durationSeconds": duration,
        "rtoTargetMinutes": target,
        "rtoMet": None if target is None or duration is None else duration <= target * 60,
        "resourceCount": len(runs),
        "counts": dict(Counter(r.status for r in runs)),
        "failures": [
            {"arn": r.arn, "status": r.status, "error": r.error, "operationId": r.operation_id, **_attempts(r)}
            for r in [*actions, *runs]
            if r.status in FAILED_STATUSES
        ],
        "approvals": approvals,
        "actions": [_action(r) for r in actions],
        "resources": [
            {
                "arn": r.arn,
                "adapter": r.adapter,
                "status": r.status,
                "startedAt": _iso(r.started_at),
                "finishedAt": _iso(r.finished_at),
                "operationId": r.operation_id,
                **_attempts(r),
                "skipReason": getattr(r, "skip_reason", None),
            }
            for r in runs
        ],
    }
