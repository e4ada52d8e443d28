"""Notification events: which timeline entries become which event type, the envelope, who receives it,
and when a failed delivery is tried again. Pure: no I/O.

Every execution notification is a timeline entry first (``execution_events``); a trigger copies the
notifiable ones into the outbox in the transaction that wrote them (migration 0005 keeps a frozen copy of
:data:`TIMELINE_TYPES`' keys). The notifier then builds the envelope with :func:`envelope`. A plan-level
event (``plan.readiness_changed``) has no execution: its envelope is built where it happens
(:func:`readiness_changed`) and written to the outbox in the same transaction.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    EXECUTION_STARTED = "execution.started"
    EXECUTION_PAUSED = "execution.paused"
    EXECUTION_RESUMED = "execution.resumed"
    EXECUTION_RETRIED = "execution.retried"  # failed resources got a new attempt; it runs again (issue 12)
    EXECUTION_FINISHED = "execution.finished"
    WAVE_STARTED = "wave.started"
    WAVE_FINISHED = "wave.finished"
    RESOURCE_FAILED = "resource.failed"
    APPROVAL_GRANTED = "approval.granted"
    APPROVAL_EXPIRED = "approval.expired"
    RTO_AT_RISK = "rto.at_risk"
    PLAN_READINESS_CHANGED = "plan.readiness_changed"  # continuous readiness: a plan's status changed
    TEST = "test"  # POST /v1/subscriptions/{id}/test; never matched by a subscription's filter


ALL = "*"
SUBSCRIBABLE = frozenset(EventType) - {EventType.TEST}

# timeline kind -> event type ("execution.running" is started or resumed, see `event_type`)
TIMELINE_TYPES: Mapping[str, EventType] = {
    "execution.running": EventType.EXECUTION_STARTED,
    "execution.paused": EventType.EXECUTION_PAUSED,
    "execution.retried": EventType.EXECUTION_RETRIED,
    "execution.completed": EventType.EXECUTION_FINISHED,
    "execution.completed_with_failures": EventType.EXECUTION_FINISHED,
    "execution.failed": EventType.EXECUTION_FINISHED,
    "execution.cancelled": EventType.EXECUTION_FINISHED,
    "wave.running": EventType.WAVE_STARTED,
    "wave.succeeded": EventType.WAVE_FINISHED,
    "wave.completed_with_failures": EventType.WAVE_FINISHED,
    "wave.failed": EventType.WAVE_FINISHED,
    "wave.cancelled": EventType.WAVE_FINISHED,
    "wave.skipped": EventType.WAVE_FINISHED,
    "resource.failed": EventType.RESOURCE_FAILED,
    "resource.timed_out": EventType.RESOURCE_FAILED,
    "approval.granted": EventType.APPROVAL_GRANTED,
    "approval.expired": EventType.APPROVAL_EXPIRED,
    "rto.at_risk": EventType.RTO_AT_RISK,
}


def event_type(kind: str, *, was_paused: bool) -> EventType:
    """The event type of a timeline kind; an execution that goes RUNNING after a pause has resumed."""
    if kind == "test":
        return EventType.TEST
    kind_type = TIMELINE_TYPES[kind]
    if kind_type is EventType.EXECUTION_STARTED and was_paused:
        return EventType.EXECUTION_RESUMED
    return kind_type


def matches(events: Iterable[str], plan_ids: Iterable[str] | None, kind: EventType, plan_id: str | None) -> bool:
    """Whether a subscription with these filters receives an event of this type from this plan."""
    if kind is EventType.TEST:
        return False
    wanted = set(events)
    if ALL not in wanted and kind.value not in wanted:
        return False
    return plan_ids is None or plan_id in set(plan_ids)


@dataclass(frozen=True)
class Retry:
    """Exponential backoff with full jitter, for `window_seconds` after the event, then give up."""

    window_seconds: float = 24 * 3600
    base_seconds: float = 2.0
    cap_seconds: float = 600.0

    def delay(self, attempts: int, rand: random.Random | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (1, 2, ...): uniform in [b/2, b] where
        b = min(cap, base * 2^(attempts-1)), so retries spread out but never come at once."""
        bound = min(self.cap_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        return bound / 2 + (rand or random).uniform(0, bound / 2)

    def gives_up(self, age_seconds: float, delay: float) -> bool:
        """Whether the next attempt would fall outside the retry window."""
        return age_seconds + delay > self.window_seconds


def envelope(
    *,
    event_id: str,
    kind: EventType,
    at: datetime,
    execution: Mapping[str, Any] | None,
    message: str,
    wave: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """{"id", "type", "timestamp", "data": {"executionId", "planId", "planName", "mode", "phase", "status",
    "wave"?, "message", ...}} — `message` is the timeline's one-line chat text."""
    data: dict[str, Any] = {}
    if execution is not None:
        data |= {
            "executionId": execution["id"],
            "planId": execution["plan_id"],
            "planName": execution["plan_name"],
            "mode": execution["mode"],
            "phase": execution["phase"],
            "status": execution["status"],
        }
    if wave is not None:
        data["wave"] = dict(wave)
    data["message"] = message
    data |= dict(extra or {})
    return {"id": event_id, "type": kind.value, "timestamp": at.isoformat(), "data": data}


def readiness_changed(
    *,
    event_id: str,
    at: datetime,
    plan: Mapping[str, Any],
    before: str,
    after: str,
    problems: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The envelope of ``plan.readiness_changed``: {"planId", "planName", "statusBefore", "status",
    "message", "checks": the checks that are not ok (as the readiness API shows them)}."""
    failing = [dict(check) for check in problems]
    if failing:
        first = failing[0]
        more = f" (+{len(failing) - 1} more)" if len(failing) > 1 else ""
        why = f": {first['name']}: {first['message']}{more}"
    else:
        why = ": every check passed"
    message = f"Plan '{plan['name']}' is now {after} (was {before}){why}"
    return envelope(
        event_id=event_id,
        kind=EventType.PLAN_READINESS_CHANGED,
        at=at,
        execution=None,
        message=message,
        extra={
            "planId": plan["id"],
            "planName": plan["name"],
            "statusBefore": before,
            "status": after,
            "checks": failing,
        },
    )


def approve_hint(api_url: str, execution_id: str) -> dict[str, str]:
    """The exact API call (and a curl line for it) and the CLI command that approve a paused execution
    (for execution.paused)."""
    path = f"/v1/executions/{execution_id}/approve"
    curl = (
        f"curl -X POST -H \"Authorization: Bearer $DRWAVE_TOKEN\" -H 'Content-Type: application/json' "
        f'-d \'{{"comment": "..."}}\' {api_url.rstrip("/")}{path}'
    )
    command = f'DRWAVE_URL={api_url.rstrip("/")} drwave exec approve {execution_id} --comment "..."'
    return {"approveCall": f"POST {path}", "approveCurl": curl, "approveCommand": command}
