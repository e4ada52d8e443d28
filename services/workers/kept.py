"""A start claim kept alive while its claimant is inside AWS.

A claim without an operation id goes stale after ``claim_timeout`` and is re-claimed: that is how a start
whose worker died is made again. A live start inside a slow AWS call (throttled botocore retries, a
slow endpoint) must not look dead, or a second worker starts it twice; so the claimant beats from a
background thread. A worker that dies takes the thread with it, and its claim goes stale as designed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

CLAIM_BEATS = 3
"""Heartbeats of a start claim per claim timeout while its claimant is inside AWS."""
LEAST_BEAT = 0.1
"""The shortest wait between two such heartbeats (a claim timeout near zero must not spin)."""


def beat_every(claim_timeout: float) -> float:
    return max(claim_timeout / CLAIM_BEATS, LEAST_BEAT)


class KeptAlive:
    """While inside ``with``: ``beat`` (in its own autocommit unit of work) every ``every`` seconds, until
    it answers False (the claim was lost: someone re-claimed it, or it ended)."""

    def __init__(self, units: UnitOfWorkFactory, beat: Callable[[UnitOfWork], bool], every: float, what: str) -> None:
        self.units, self.beat, self.every, self.what = units, beat, every, what
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"kept {what}", daemon=True)

    def __enter__(self) -> KeptAlive:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        # a beat stuck in a frozen Postgres must not hold the task: the daemon thread ends with the process
        self._thread.join(timeout=self.every)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                with self.units(autocommit=True) as uow:
                    kept = self.beat(uow)
            except Exception:  # Postgres unreachable for a moment: try again at the next beat
                log.exception("%s: keeping the claim alive failed", self.what)
                continue
            if not kept:
                log.warning("%s: the claim was taken over while starting", self.what)
                return
