"""The scheduler's service layer: apply `next_step` decisions to Postgres, one compare-and-set each.

Every entry point (start, chord callback, resume, reconciler) ends in `advance`, so there is one
path that moves an execution forward. Only the winner of a wave's PENDING -> RUNNING compare-and-set
dispatches that wave: its unit of work sends the wave's message after the commit.
"""

from __future__ import annotations

import logging

from shared.domain.progress import (
    ClosesWave,
    Finish,
    FinishWave,
    Pause,
    SkipWave,
    StartStage,
    StartWave,
    Step,
    StopWave,
    Wait,
    after,
    next_step,
)
from shared.domain.states import ExecutionStatus, WaveStatus
from shared.messaging import DispatchWave
from shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

ACTOR = "scheduler"
MAX_STEPS = 1000


class LostRace(Exception):
    """Another writer changed the row first; re-read and decide again."""


class Orchestrator:
    def __init__(self, uow: UnitOfWorkFactory):
        self.uow = uow

    def start(self, execution_id: str) -> None:
        with self.uow() as uow:
            moved = uow.executions.move(
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
                with self.uow() as uow:
                    snapshot = uow.executions.snapshot(execution_id)
                    if snapshot is None:
                        log.warning("[%s] advance: no such execution", execution_id)
                        return Wait()
                    step = next_step(snapshot)
                    while isinstance(step, ClosesWave):
                        self._apply(uow, execution_id, snapshot.status, step)
                        snapshot = after(snapshot, step)
                        step = next_step(snapshot)
                    if isinstance(step, Wait):
                        return step
                    self._apply(uow, execution_id, snapshot.status, step)
            except LostRace:
                continue
            return step
        raise RuntimeError(f"{execution_id}: no stable state after {MAX_STEPS} steps")

    def _apply(self, uow: UnitOfWork, execution_id: str, status: ExecutionStatus, step: Step) -> None:
        match step:
            case FinishWave(number, outcome):
                self._wave(uow, execution_id, number, WaveStatus.RUNNING, outcome, f"Wave {number} {outcome.value}")
                log.info("[%s] wave %s finished: %s", execution_id, number, outcome.value, extra={"wave": number})
            case SkipWave(number, reason):
                self._wave(
                    uow,
                    execution_id,
                    number,
                    WaveStatus.PENDING,
                    WaveStatus.SKIPPED,
                    f"Wave {number} skipped: {reason}",
                    reason,
                )
            case StartWave(number, stage):
                # a wave with actions starts with its first stage to run
                staged = {"stage": stage, "passed_stage": None} if stage is not None else None
                self._wave(
                    uow,
                    execution_id,
                    number,
                    WaveStatus.PENDING,
                    WaveStatus.RUNNING,
                    f"Wave {number} started",
                    values=staged,
                )
                if not uow.executions.set_fields(execution_id, status, current_wave=number):
                    raise LostRace
                self._dispatch(uow, execution_id, number, stage)
            case StartStage(number, stage, previous):
                if not uow.waves.start_stage(
                    execution_id, number, previous, stage, actor=ACTOR, message=f"Wave {number}: stage {stage} started"
                ):
                    raise LostRace
                self._dispatch(uow, execution_id, number, stage)
            case StopWave(number, outcome, reason, ran):
                uow.resources.cancel_later_stages(execution_id, number, ran, reason)
                self._wave(
                    uow,
                    execution_id,
                    number,
                    WaveStatus.RUNNING,
                    outcome,
                    f"Wave {number} {outcome.value}: {reason}",
                    reason,
                )
                log.info(
                    "[%s] wave %s stopped %s: %s", execution_id, number, outcome.value, reason, extra={"wave": number}
                )
            case Pause(before_wave, reason, gate, data_loss_of_wave):
                if data_loss_of_wave is not None:  # its clusters are asked about once (docs: "Graceful, then …")
                    uow.resources.ask_data_loss(execution_id, data_loss_of_wave)
                after_last = data_loss_of_wave == before_wave  # no wave left to run: it pauses at the last one
                where = f"at wave {before_wave}" if after_last else f"before wave {before_wave}"
                row = uow.executions.move(
                    execution_id,
                    status,
                    ExecutionStatus.PAUSED,
                    actor=ACTOR,
                    message=f"Paused {where}: {reason}",
                    values={
                        "paused_before_wave": before_wave,
                        "pause_requested": False,
                        "status_reason": reason,
                    },
                )
                if row is None:
                    raise LostRace
                if gate:  # a gate opens its approval request in the pause's transaction
                    uow.approval_requests.open_gate(execution_id, before_wave, reason)
                log.info(
                    "[%s] paused before wave %s: %s", execution_id, before_wave, reason, extra={"wave": before_wave}
                )
            case Finish(final, reason, remaining, remaining_status):
                for number in remaining:
                    self._wave(
                        uow,
                        execution_id,
                        number,
                        WaveStatus.PENDING,
                        remaining_status,
                        f"Wave {number} {remaining_status.value.lower()}: {reason}",
                        reason,
                    )
                uow.resources.cancel_pending(
                    execution_id, remaining, f"wave {remaining_status.value.lower()}: {reason}"
                )
                row = uow.executions.move(
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

    @staticmethod
    def _dispatch(uow: UnitOfWork, execution_id: str, number: int, stage: int | None) -> None:
        """Send a wave's PENDING runs (of one stage, for a wave with actions) to the workers after the commit:
        all of them the first time, the new attempts of a retry (a SUCCEEDED run is never started again;
        docs/architecture.md, "Retry and skip")."""
        runs = uow.resources.for_wave(execution_id, number, stage, pending=True)
        uow.launch_batches.create_for_wave(execution_id, number, runs)  # DRS: ≤ 100 servers per job
        uow.publish(DispatchWave(execution_id, number, tuple((row.id, row.adapter, row.arn) for row in runs)))
        what = f"stage {stage}: " if stage is not None else ""
        log.info("[%s] wave %s started: %s%d runs", execution_id, number, what, len(runs), extra={"wave": number})

    @staticmethod
    def _wave(
        uow: UnitOfWork,
        execution_id: str,
        number: int,
        expected: WaveStatus,
        target: WaveStatus,
        message: str,
        reason: str | None = None,
        values: dict | None = None,
    ) -> None:
        moved = uow.waves.move(
            execution_id, number, expected, target, actor=ACTOR, message=message, reason=reason, values=values
        )
        if moved is None:
            raise LostRace
