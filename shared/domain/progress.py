"""Deciding an execution's next step from a snapshot of Postgres — pure, no I/O.

The scheduler reads a snapshot, asks `next_step`, applies that one step with a compare-and-set and
reads again. Because every decision is derived from stored state (never from the message that woke
the scheduler), a duplicate, early or lost chord callback changes nothing: whoever reads the same
state reaches the same decision, and only the compare-and-set winner acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import ClassVar, Protocol

from shared.domain.actions import RESOURCE_STAGE
from shared.domain.states import (
    WAVE_TERMINAL,
    WAVE_WITH_FAILURES,
    ExecutionStatus,
    WaveStatus,
)


class Phase(StrEnum):
    INSTANTIATE = "instantiate"
    ACTIVATE = "activate"
    CLEANUP = "cleanup"
    REPLICATE = "replicate"


class Mode(StrEnum):
    DRILL = "drill"
    RECOVERY = "recovery"


DEFAULT_WAVE_TIMEOUT_SECONDS = 3600
"""How long a wave's resources may take when the plan does not say; past it they are TIMED_OUT."""
MAX_WAVE_TIMEOUT_SECONDS = 7 * 24 * 3600


class OnFailure(StrEnum):
    CONTINUE = "continue"
    PAUSE = "pause"
    ABORT = "abort"


def run_order(phase: Phase | str, numbers: list[int]) -> list[int]:
    """Wave numbers in the order a phase runs them: cleanup tears down the web tier first."""
    return sorted(numbers, reverse=Phase(phase) is Phase.CLEANUP)


@dataclass(frozen=True)
class StageCounts:
    """The runs of one stage of a wave (shared/domain/actions.py: pre-actions < 0, resources 0, post > 0)."""

    number: int
    total: int = 0
    unfinished: int = 0
    failed: int = 0
    cancelled: int = 0


class WaveRun(Protocol):
    """The fields of a ``wave_runs`` row a snapshot reads."""

    number: int
    name: str
    status: str
    pause_before: bool
    gate_passed: bool
    on_failure: str
    stage: int | None
    passed_stage: int | None


@dataclass(frozen=True)
class WaveSnapshot:
    number: int
    name: str
    status: WaveStatus
    pause_before: bool = False
    gate_passed: bool = False
    on_failure: OnFailure = OnFailure.CONTINUE
    total: int = 0
    unfinished: int = 0
    failed: int = 0
    cancelled: int = 0
    awaiting_data_loss: int = 0  # runs failed DATA_LOSS_APPROVAL_REQUIRED not yet asked about (Aurora, issue 12)
    data_loss_reason: str | None = None  # the first one's reason: "primary Region … unreachable for …"
    stages: tuple[StageCounts, ...] = ()  # ascending; none or one: a wave of resources only, run at once
    stage: int | None = None  # the stage dispatched (None: every run, a wave without actions)
    passed_stage: int | None = None  # the stage after which a resume let the wave go on

    @classmethod
    def of_stages(cls, number: int, name: str, status: WaveStatus, stages: list[StageCounts], **kw) -> WaveSnapshot:
        """A wave whose counts are its stages' sums."""
        ordered = tuple(sorted(stages, key=lambda s: s.number))
        sums = {k: sum(getattr(s, k) for s in ordered) for k in ("total", "unfinished", "failed", "cancelled")}
        return cls(number, name, status, **kw, **sums, stages=ordered)

    @classmethod
    def of_wave_run(cls, wave: WaveRun, stages: list[StageCounts], **kw) -> WaveSnapshot:
        """A wave as its ``wave_runs`` row stores it (the store's row, or the fakes' record of one)."""
        return cls.of_stages(
            wave.number,
            wave.name,
            WaveStatus(wave.status),
            stages,
            pause_before=wave.pause_before,
            gate_passed=wave.gate_passed,
            on_failure=OnFailure(wave.on_failure),
            stage=wave.stage,
            passed_stage=wave.passed_stage,
            **kw,
        )

    @property
    def staged(self) -> bool:
        """Whether the wave runs in several stages (it has actions)."""
        return len(self.stages) > 1

    def current(self) -> StageCounts:
        """The stage dispatched (the first before any)."""
        return next((s for s in self.stages if s.number == self.stage), self.stages[0])

    def stage_after(self, number: int | None = None) -> int | None:
        """The next stage with runs to run (the first one when ``number`` is None): stages a retry left
        terminal are passed over."""
        return next((s.number for s in self.stages if (number is None or s.number > number) and s.unfinished), None)

    def stage_name(self, number: int) -> str:
        """``pre-action 2``, ``resources``, ``post-action 1``."""
        if number == RESOURCE_STAGE:
            return "resources"
        if number < RESOURCE_STAGE:
            return f"pre-action {number + sum(s.number < RESOURCE_STAGE for s in self.stages) + 1}"
        return f"post-action {number}"


@dataclass(frozen=True)
class ExecutionSnapshot:
    id: str
    status: ExecutionStatus
    phase: Phase
    pause_requested: bool = False
    waves: tuple[WaveSnapshot, ...] = field(default_factory=tuple)
    cancel_reason: str | None = None  # why a CANCELLING execution is cancelled (default "cancelled")

    def ordered_waves(self) -> list[WaveSnapshot]:
        by_number = {w.number: w for w in self.waves}
        return [by_number[n] for n in run_order(self.phase, list(by_number))]


# --- steps -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wait:
    """Nothing to do until a resource of the running wave finishes (or the execution is parked)."""


@dataclass(frozen=True)
class FinishWave:
    number: int
    outcome: WaveStatus


@dataclass(frozen=True)
class StartWave:
    number: int
    stage: int | None = None  # the first stage of a wave with actions (None: all its runs at once)


@dataclass(frozen=True)
class StartStage:
    """The next stage of a running wave, once every run of the stage before (`after`) is terminal."""

    number: int
    stage: int
    after: int


@dataclass(frozen=True)
class StopWave:
    """A running wave ends before its stages after `after` ran (onFailure abort, or a cancel): their runs
    are CANCELLED and the wave takes `outcome`."""

    number: int
    outcome: WaveStatus
    reason: str
    after: int


@dataclass(frozen=True)
class SkipWave:
    number: int
    reason: str
    outcome: ClassVar[WaveStatus] = WaveStatus.SKIPPED


@dataclass(frozen=True)
class Pause:
    before_wave: int
    reason: str
    gate: bool = True  # a gate opens an approval request; a requested pause does not
    data_loss_of_wave: int | None = None  # asks for a data loss approval for this wave's runs (docs: "Graceful…")


@dataclass(frozen=True)
class Finish:
    """The execution ends; `remaining` waves still PENDING become `remaining_status`."""

    status: ExecutionStatus
    reason: str
    remaining: tuple[int, ...] = ()
    remaining_status: WaveStatus = WaveStatus.SKIPPED


Step = Wait | FinishWave | StartWave | StartStage | StopWave | SkipWave | Pause | Finish
ClosesWave = FinishWave | StopWave | SkipWave
"""The steps that end a wave, each with the status it takes (``outcome``): the scheduler applies them and
decides the following step in the same transaction (:func:`after`)."""


def wave_outcome(wave: WaveSnapshot) -> WaveStatus:
    """The status of a wave whose resources are all terminal."""
    if wave.cancelled:
        return WaveStatus.CANCELLED
    if wave.failed:
        return _with_failures(wave.failed, wave.total)
    return WaveStatus.SUCCEEDED


def _with_failures(failed: int, total: int) -> WaveStatus:
    """The status of a wave (or of the stages of it that ran) some of whose runs failed: FAILED if all did."""
    return WaveStatus.FAILED if failed >= total else WaveStatus.COMPLETED_WITH_FAILURES


def next_step(snapshot: ExecutionSnapshot) -> Step:
    """The one next thing the scheduler must do for this execution."""
    if snapshot.status not in (ExecutionStatus.RUNNING, ExecutionStatus.CANCELLING):
        return Wait()
    waves = snapshot.ordered_waves()
    previous: WaveSnapshot | None = None
    for index, wave in enumerate(waves):
        if wave.status is WaveStatus.RUNNING:
            if wave.staged:
                return _between_stages(snapshot, wave)
            return Wait() if wave.unfinished else FinishWave(wave.number, wave_outcome(wave))
        if wave.status in WAVE_TERMINAL:
            if wave.awaiting_data_loss and snapshot.status is ExecutionStatus.RUNNING:
                return _ask_for_data_loss(wave, waves[index + 1 :])
            previous = wave
            continue
        # only the waves still PENDING: after a retry a finished wave may follow a PENDING one, and a
        # Finish must not try to move it (PENDING -> CANCELLED would never match: a lost race forever)
        remaining = tuple(w.number for w in waves[index:] if w.status is WaveStatus.PENDING)
        return _before_pending_wave(snapshot, previous, wave, remaining)
    return _finish(snapshot, waves)


def _ask_for_data_loss(wave: WaveSnapshot, later: list[WaveSnapshot]) -> Pause:
    """Whatever the wave's onFailure: its clusters that could fail over only with data loss park the
    execution at a gate, before the next wave still to run (else at the wave itself, the last one)."""
    following = next((w.number for w in later if w.status is WaveStatus.PENDING), wave.number)
    more = wave.awaiting_data_loss - 1
    reason = (wave.data_loss_reason or "approve data loss to fail over") + (
        f" (and {more} more cluster{'s' if more > 1 else ''} of wave {wave.number})" if more else ""
    )
    return Pause(following, reason, data_loss_of_wave=wave.number)


def _before_pending_wave(
    snapshot: ExecutionSnapshot,
    previous: WaveSnapshot | None,
    wave: WaveSnapshot,
    remaining: tuple[int, ...],
) -> Step:
    if snapshot.status is ExecutionStatus.CANCELLING:
        return Finish(ExecutionStatus.CANCELLED, snapshot.cancel_reason or "cancelled", remaining, WaveStatus.CANCELLED)
    if previous is not None and previous.status in WAVE_WITH_FAILURES:
        if previous.on_failure is OnFailure.ABORT:
            return Finish(
                ExecutionStatus.FAILED,
                f"wave {previous.number} '{previous.name}' had failures and onFailure is abort",
                remaining,
                WaveStatus.SKIPPED,
            )
        if previous.on_failure is OnFailure.PAUSE and not wave.gate_passed:
            return Pause(wave.number, f"wave {previous.number} '{previous.name}' had failures")
    if not wave.gate_passed:
        # a gate first: a requested pause at a gate is the gate's pause, so resuming it is an approval
        # under the plan's policy, never a way round it
        if wave.pause_before:
            return Pause(wave.number, f"approval required before wave {wave.number} '{wave.name}'")
        if snapshot.pause_requested and previous is not None:
            return Pause(wave.number, "pause requested", gate=False)
    if wave.total == 0:
        return SkipWave(wave.number, "no resources in this wave")
    return StartWave(wave.number, wave.stage_after()) if wave.staged else StartWave(wave.number)


def _between_stages(snapshot: ExecutionSnapshot, wave: WaveSnapshot) -> Step:
    """A running wave with actions: its stages run one after the other; a stage's failures decide what
    comes next as a wave's do between waves (``onFailure``)."""
    current = wave.current()
    if current.unfinished:
        return Wait()
    following = wave.stage_after(current.number)
    if following is None:
        return FinishWave(wave.number, wave_outcome(wave))
    if snapshot.status is ExecutionStatus.CANCELLING:
        return StopWave(wave.number, WaveStatus.CANCELLED, snapshot.cancel_reason or "cancelled", current.number)
    if wave.awaiting_data_loss:  # whatever onFailure, as between waves: asked before the next stage runs
        asked = _ask_for_data_loss(wave, [])
        return replace(asked, reason=f"{asked.reason} (before {wave.stage_name(following)})")
    if current.failed:
        what = f"wave {wave.number} '{wave.name}': {wave.stage_name(current.number)} failed"
        if wave.on_failure is OnFailure.ABORT:
            ran = [s for s in wave.stages if s.number <= current.number]
            outcome = _with_failures(sum(s.failed for s in ran), sum(s.total for s in ran))
            return StopWave(wave.number, outcome, f"{what} and onFailure is abort", current.number)
        if wave.on_failure is OnFailure.PAUSE and wave.passed_stage != current.number:
            return Pause(wave.number, f"{what} (before {wave.stage_name(following)})")
    return StartStage(wave.number, following, current.number)


def _finish(snapshot: ExecutionSnapshot, waves: list[WaveSnapshot]) -> Finish:
    if snapshot.status is ExecutionStatus.CANCELLING:
        return Finish(ExecutionStatus.CANCELLED, snapshot.cancel_reason or "cancelled")
    if any(w.status is WaveStatus.CANCELLED for w in waves):
        return Finish(ExecutionStatus.CANCELLED, "cancelled")
    last = waves[-1] if waves else None
    if last is not None and last.status in WAVE_WITH_FAILURES and last.on_failure is OnFailure.ABORT:
        return Finish(ExecutionStatus.FAILED, f"wave {last.number} '{last.name}' had failures (abort)")
    if any(w.status in WAVE_WITH_FAILURES for w in waves):
        return Finish(ExecutionStatus.COMPLETED_WITH_FAILURES, "finished; some resources failed")
    return Finish(ExecutionStatus.COMPLETED, "all waves finished")


def after(snapshot: ExecutionSnapshot, step: ClosesWave) -> ExecutionSnapshot:
    """The snapshot once a wave-closing step is applied, so the scheduler can decide the following step
    in the same transaction instead of reading Postgres again."""
    waves = tuple(replace(w, status=step.outcome) if w.number == step.number else w for w in snapshot.waves)
    return replace(snapshot, waves=waves)
