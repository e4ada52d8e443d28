"""The scheduler's service layer: apply `next_step` decisions to Postgres, one compare-and-set each.

Every entry point (start, chord callback, resume, reconciler) ends in `advance`, so there is one
path that moves an execution forward. Only the winner of a wave's PENDING -> RUNNING compare-and-set
dispatches that wave, and it does so after its transaction committed.
"""

from __future__ import annotations

import logging
from typing import Protocol

from shared.db.engine import Database
from shared.domain.progress import Finish, FinishWave, Pause, SkipWave, StartWave, Step, Wait, after, next_step
from shared.domain.states import ExecutionStatus, WaveStatus
from shared.store import approval_requests, executions, launch_batches, resources, waves

log = logging.getLogger(__name__)

ACTOR = "scheduler"
MAX_STEPS = 1000


class WaveDispatcher(Protocol):
    def dispatch_wave(self, execution_id: str, wave_number: int, runs: list[tuple[int, str]]) -> None: ...


class LostRace(Exception):
    """Another writer changed the row first; re-read and decide again."""


class Orchestrator:
    def __init__(self, db: Database, dispatcher: WaveDispatcher):
        self.db = db
        self.dispatcher = dispatcher

    def start(self, execution_id: str) -> None:
        with self.db.engine.begin() as conn:
            moved = executions.move(
                conn,
                execution_id,
                ExecutionStatus.PENDING,
                ExecutionStatus.RUNNING,
                actor=ACTOR,
                message="Execution started",
            )
        if moved is not None:
            log.info("[%s] started", execution_id)
        self.advance(execution_id)

    def advance(self, execution_id: str) -> Step:
        """Apply steps until the execution waits on workers, pauses or finishes.

        Wave-closing steps (finish, skip) and the step they lead to are applied in one transaction, the
        snapshot updated in memory (`after`); every write is still a compare-and-set, and a lost race
        rolls the whole transaction back and reads again. A wave is dispatched only after the commit.
        """
        for _ in range(MAX_STEPS):
            try:
                with self.db.engine.begin() as conn:
                    snapshot = executions.snapshot(conn, execution_id)
                    if snapshot is None:
                        log.warning("[%s] advance: no such execution", execution_id)
                        return Wait()
                    step = next_step(snapshot)
                    while isinstance(step, FinishWave | SkipWave):
                        self._apply(conn, execution_id, snapshot.status, step)
                        snapshot = after(snapshot, step)
                        step = next_step(snapshot)
                    if isinstance(step, Wait):
                        return step
                    dispatch = self._apply(conn, execution_id, snapshot.status, step)
            except LostRace:
                continue
            if dispatch is not None and isinstance(step, StartWave):
                self.dispatcher.dispatch_wave(execution_id, step.number, dispatch)
                log.info("[%s] wave %s dispatched: %d resources", execution_id, step.number, len(dispatch))
            return step
        raise RuntimeError(f"{execution_id}: no stable state after {MAX_STEPS} steps")

    def _apply(self, conn, execution_id: str, status: ExecutionStatus, step: Step) -> list[tuple[int, str]] | None:
        match step:
            case FinishWave(number, outcome):
                self._wave(conn, execution_id, number, WaveStatus.RUNNING, outcome, f"Wave {number} {outcome.value}")
                log.info("[%s] wave %s finished: %s", execution_id, number, outcome.value)
            case SkipWave(number, reason):
                self._wave(
                    conn,
                    execution_id,
                    number,
                    WaveStatus.PENDING,
                    WaveStatus.SKIPPED,
                    f"Wave {number} skipped: {reason}",
                    reason,
                )
            case StartWave(number):
                self._wave(
                    conn,
                    execution_id,
                    number,
                    WaveStatus.PENDING,
                    WaveStatus.RUNNING,
                    f"Wave {number} started",
                )
                if not executions.set_fields(conn, execution_id, status, current_wave=number):
                    raise LostRace
                runs = resources.for_wave(conn, execution_id, number)
                launch_batches.create_for_wave(conn, execution_id, number, runs)  # DRS: ≤ 100 servers per job
                return [(row.id, row.adapter) for row in runs]
            case Pause(before_wave, reason, gate):
                row = executions.move(
                    conn,
                    execution_id,
                    status,
                    ExecutionStatus.PAUSED,
                    actor=ACTOR,
                    message=f"Paused before wave {before_wave}: {reason}",
                    values={
                        "paused_before_wave": before_wave,
                        "pause_requested": False,
                        "status_reason": reason,
                    },
                )
                if row is None:
                    raise LostRace
                if gate:  # on-call hook (issue 10): a gate opens its approval request in the pause's transaction
                    approval_requests.open_gate(conn, execution_id, before_wave, reason)
                log.info("[%s] paused before wave %s: %s", execution_id, before_wave, reason)
            case Finish(final, reason, remaining, remaining_status):
                for number in remaining:
                    self._wave(
                        conn,
                        execution_id,
                        number,
                        WaveStatus.PENDING,
                        remaining_status,
                        f"Wave {number} {remaining_status.value.lower()}: {reason}",
                        reason,
                    )
                resources.cancel_pending(
                    conn, execution_id, remaining, f"wave {remaining_status.value.lower()}: {reason}"
                )
                row = executions.move(
                    conn,
                    execution_id,
                    status,
                    final,
                    actor=ACTOR,
                    message=f"Execution {final.value}: {reason}",
                    values={"status_reason": reason},
                )
                if row is None:
                    raise LostRace
                log.info("[%s] finished %s: %s", execution_id, final.value, reason)
        return None

    @staticmethod
    def _wave(conn, execution_id, number, expected, target, message, reason=None) -> None:
        if (
            waves.move(conn, execution_id, number, expected, target, actor=ACTOR, message=message, reason=reason)
            is None
        ):
            raise LostRace
