"""drwave's four state machines — execution, wave, resource run, launch batch — one table of allowed
moves each, and the one check every status write passes (docs/architecture.md, "State machines").

The store builds every status write from `check_move`: ``shared.store.transition.guard`` checks the
move against its table and returns the compare-and-set's ``WHERE status = expected``, so the table
and the guard Postgres applies cannot drift apart, and a race has exactly one winner. A cancel always
passes through CANCELLING, so the scheduler finishes every cancel on one path (in-flight resources
end, later waves become CANCELLED).

Retry and skip (issue 12) add the only moves out of finished states: a FAILED or TIMED_OUT resource run
goes back to PENDING for a new attempt (or is SKIPPED with a reason), a wave with failures (or one an
abort SKIPPED) goes back to PENDING, and an execution that finished with failures goes back to RUNNING.
COMPLETED and CANCELLED executions never move again; a SUCCEEDED run is never started again.
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
    SKIPPED = "SKIPPED"  # a failed run an operator accepted with a reason: counts as done for its wave


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
    # retry: the failed resources get a new attempt
    E.COMPLETED_WITH_FAILURES: frozenset({E.RUNNING}),
    E.FAILED: frozenset({E.RUNNING}),
}

WAVE_MOVES: dict[WaveStatus, frozenset[WaveStatus]] = {
    W.PENDING: frozenset({W.RUNNING, W.SKIPPED, W.CANCELLED}),
    # RUNNING -> PENDING: a wave paused between its stages (a failed pre-action) is retried
    W.RUNNING: frozenset({W.PENDING, W.SUCCEEDED, W.COMPLETED_WITH_FAILURES, W.FAILED, W.CANCELLED}),
    # retry runs the wave again (only its new attempts); a skip re-judges its outcome
    W.COMPLETED_WITH_FAILURES: frozenset({W.PENDING, W.SUCCEEDED}),
    W.FAILED: frozenset({W.PENDING, W.COMPLETED_WITH_FAILURES, W.SUCCEEDED}),
    W.SKIPPED: frozenset({W.PENDING}),  # a wave an abort skipped runs when its execution is retried
}

RESOURCE_MOVES: dict[ResourceStatus, frozenset[ResourceStatus]] = {
    R.PENDING: frozenset({R.STARTING, R.CANCELLED, R.FAILED, R.TIMED_OUT}),
    R.STARTING: frozenset({R.IN_PROGRESS, R.FAILED, R.TIMED_OUT}),
    R.IN_PROGRESS: frozenset({R.SUCCEEDED, R.FAILED, R.TIMED_OUT}),
    # retry: a new attempt; skip: accepted with a reason
    R.FAILED: frozenset({R.PENDING, R.SKIPPED}),
    R.TIMED_OUT: frozenset({R.PENDING, R.SKIPPED}),
    R.CANCELLED: frozenset({R.PENDING}),  # a run of a wave an abort skipped, when the execution is retried
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
RESOURCE_TERMINAL = frozenset({R.SUCCEEDED, R.FAILED, R.CANCELLED, R.TIMED_OUT, R.SKIPPED})
RESOURCE_FAILED = frozenset({R.FAILED, R.TIMED_OUT})  # what retry starts again and skip accepts
EXECUTION_RETRYABLE = frozenset({E.PAUSED, E.COMPLETED_WITH_FAILURES, E.FAILED})

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
