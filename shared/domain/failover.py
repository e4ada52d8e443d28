"""How a recovery moves an Aurora global database's writer (docs/architecture.md, "Graceful, then ungraceful").

A recovery execution says how (``failover``) and whether it may lose data (``allowDataLoss``):

| failover | move | the primary Region does not answer |
|---|---|---|
| ``graceful`` | switchover (no data loss) | the resource fails |
| ``ungraceful`` | failover, ``AllowDataLoss`` | (not asked: a failover goes around it) |
| ``auto`` (default) | switchover | failover when ``allowDataLoss``, else ``DATA_LOSS_APPROVAL_REQUIRED`` |

A drill never fails over: it always switches over (and switches back in cleanup), so ``ungraceful``
and ``allowDataLoss: true`` are refused in drill mode and the execution stores ``graceful``.
Pure rules, no I/O: the aurora adapter and the API's request model ask them.
"""

from __future__ import annotations

from enum import StrEnum


class Failover(StrEnum):
    GRACEFUL = "graceful"
    UNGRACEFUL = "ungraceful"
    AUTO = "auto"


class WriterMove(StrEnum):
    SWITCHOVER = "switchover"  # planned, the primary answers: no data loss
    FAILOVER = "failover"  # around an unreachable primary: writes it had not replicated are lost


DEFAULT_FAILOVER = Failover.AUTO
DRILL_FAILOVER = Failover.GRACEFUL
DATA_LOSS_APPROVAL_REQUIRED = "DATA_LOSS_APPROVAL_REQUIRED"
"""The error code of a resource run that stopped before a failover only data loss approval allows."""


def describe(failover: Failover, allow_data_loss: bool) -> str:
    """What a recovery will do, in one line (the timeline's entry for its start)."""
    if failover is Failover.GRACEFUL:
        return "switchover only, never data loss"
    if failover is Failover.UNGRACEFUL:
        return "failover with data loss allowed"
    if allow_data_loss:
        return "switchover; failover with data loss allowed when the primary Region is unreachable"
    return "switchover; a failover with data loss when the primary Region is unreachable needs approval"


def first_move(failover: Failover) -> WriterMove:
    """What is tried first: a failover when asked for one, else a switchover."""
    return WriterMove.FAILOVER if failover is Failover.UNGRACEFUL else WriterMove.SWITCHOVER


def fails_over_when_primary_unreachable(failover: Failover, allow_data_loss: bool) -> bool:
    """Whether a switchover the primary Region did not answer is followed by a failover."""
    return failover is Failover.AUTO and allow_data_loss


def approval_reason(primary_region: str, arn: str) -> str:
    """Why an ``auto`` recovery stopped before a failover (the pause reason, the run's error)."""
    return f"primary Region {primary_region} unreachable for {arn}: approve data loss to fail over"


def graceful_refusal(primary_region: str, arn: str, *, drill: bool = False) -> str:
    """Why a ``graceful`` recovery (or a drill) failed when the primary Region did not answer."""
    head = f"primary Region {primary_region} unreachable for {arn}"
    if drill:
        return f"{head}: a drill switches over, which needs the primary, and never fails over"
    return (
        f"{head}: a graceful failover (switchover) needs the primary; start the recovery with failover "
        "'ungraceful' (or 'auto' with allowDataLoss) to fail over"
    )


def drill_problem(failover: Failover, allow_data_loss: bool) -> tuple[str, str] | None:
    """``(field, problem)`` when a drill asks for data loss, which a drill never risks; else None."""
    if failover is Failover.UNGRACEFUL:
        return "failover", "a drill always switches over (graceful); 'ungraceful' is for recovery mode"
    if allow_data_loss:
        return "allowDataLoss", "a drill never fails over with data loss; allowDataLoss is for recovery mode"
    return None
