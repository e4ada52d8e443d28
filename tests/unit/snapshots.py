"""Snapshots for the tests of ``next_step``: an execution of waves, a wave of counted resources."""

from __future__ import annotations

from shared.domain.progress import ExecutionSnapshot, Phase, WaveSnapshot
from shared.domain.states import ExecutionStatus as ES
from shared.domain.states import WaveStatus as WS


def wave(number, status=WS.PENDING, total=2, unfinished=None, failed=0, cancelled=0, **kw) -> WaveSnapshot:
    """Wave ``number`` of ``total`` resources; a pending or running one has them all unfinished unless told."""
    if unfinished is None:
        unfinished = total if status in (WS.PENDING, WS.RUNNING) else 0
    return WaveSnapshot(
        number, f"w{number}", status, total=total, unfinished=unfinished, failed=failed, cancelled=cancelled, **kw
    )


def execution(*waves, status=ES.RUNNING, phase=Phase.INSTANTIATE, pause_requested=False) -> ExecutionSnapshot:
    return ExecutionSnapshot("ex-1", status, phase, pause_requested, tuple(waves))
