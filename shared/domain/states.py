"""drwave's four state machines — execution, wave, resource run, launch batch — one table of allowed
moves each, and the one check every status write passes (docs/architecture.md, "State machines").

The store builds every status write from `check_move`: ``shared.store.transition.guard`` checks the
move against its table and returns the compare-and-set's ``WHERE status = expected``, so the table
and the guard Postgres applies cannot drift apart, and a race has exactly one winner. A cancel always
passes through CANCELLING, so the scheduler finishes every cancel on one path (in-flight resources
end, later waves become CANCELLED).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class ExecutionStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_FAILURES = "COMPLETED_WITH_FAILURES"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class WaveStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    COMPLETED_WITH_FAILURES = "COMPLETED_WITH_FAILURES"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    SKIPPED = "SKIPPED"


class ResourceStatus(StrEnum):
    PENDING = "PENDING"
    STARTING = "STARTING"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"


class BatchStatus(StrEnum):
    """A launch batch's start (shared/domain/batches.py): claimed by one member, started once for all."""

    PENDING = "PENDING"
    STARTING = "STARTING"
    STARTED = "STARTED"
    FAILED = "FAILED"


E, W, R, B = ExecutionStatus, WaveStatus, ResourceStatus, BatchStatus

EXECUTION_MOVES: dict[ExecutionStatus, frozenset[ExecutionStatus]] = {
    E.PENDING: frozenset({E.RUNNING, E.CANCELLING, E.FAILED}),
    E.RUNNING: frozenset({E.PAUSED, E.CANCELLING, E.COMPLETED, E.COMPLETED_WITH_FAILURES, E.FAILED}),
    E.PAUSED: frozenset({E.RUNNING, E.CANCELLING}),
    E.CANCELLING: frozenset({E.CANCELLED}),
}

WAVE_MOVES: dict[WaveStatus, frozenset[WaveStatus]] = {
    W.PENDING: frozenset({W.RUNNING, W.SKIPPED, W.CANCELLED}),
    W.RUNNING: frozenset({W.SUCCEEDED, W.COMPLETED_WITH_FAILURES, W.FAILED, W.CANCELLED}),
}

RESOURCE_MOVES: dict[ResourceStatus, frozenset[ResourceStatus]] = {
    R.PENDING: frozenset({R.STARTING, R.CANCELLED, R.FAILED, R.TIMED_OUT}),
    R.STARTING: frozenset({R.IN_PROGRESS, R.FAILED, R.TIMED_OUT}),
    R.IN_PROGRESS: frozenset({R.SUCCEEDED, R.FAILED, R.TIMED_OUT}),
}

BATCH_MOVES: dict[BatchStatus, frozenset[BatchStatus]] = {
    B.PENDING: frozenset({B.STARTING}),
    # STARTING -> PENDING gives a claim back after a retryable error; STARTING -> STARTING re-claims a
    # start whose worker went silent
    B.STARTING: frozenset({B.PENDING, B.STARTING, B.STARTED, B.FAILED}),
}

EXECUTION_TERMINAL = frozenset({E.COMPLETED, E.COMPLETED_WITH_FAILURES, E.FAILED, E.CANCELLED})
EXECUTION_ACTIVE = frozenset(set(E) - EXECUTION_TERMINAL)
WAVE_TERMINAL = frozenset(set(W) - {W.PENDING, W.RUNNING})
WAVE_WITH_FAILURES = frozenset({W.COMPLETED_WITH_FAILURES, W.FAILED})
RESOURCE_TERMINAL = frozenset({R.SUCCEEDED, R.FAILED, R.CANCELLED, R.TIMED_OUT})
RESOURCE_FAILED = frozenset({R.FAILED, R.TIMED_OUT})

_MACHINES: dict[type, dict] = {
    ExecutionStatus: EXECUTION_MOVES,
    WaveStatus: WAVE_MOVES,
    ResourceStatus: RESOURCE_MOVES,
    BatchStatus: BATCH_MOVES,
}


class IllegalTransition(Exception):
    """A status change the state machine does not allow (a bug, or a stale caller)."""

    def __init__(self, current: StrEnum, target: StrEnum):
        self.current = current
        self.target = target
        super().__init__(f"{type(current).__name__}: {current} -> {target} is not allowed")


S = TypeVar("S", ExecutionStatus, WaveStatus, ResourceStatus, BatchStatus)


def check_move(current: S, target: S) -> S:
    """Return `target` when `current -> target` is an allowed move, else raise IllegalTransition."""
    if type(current) is not type(target):
        raise TypeError(f"cannot move a {type(current).__name__} to a {type(target).__name__}")
    if target not in _MACHINES[type(current)].get(current, frozenset()):
        raise IllegalTransition(current, target)
    return target
