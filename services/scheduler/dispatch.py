"""Sends one wave to the workers as a Celery chord whose callback wakes the scheduler.

The chord is only a hint (DESIGN §3): the callback re-reads Postgres, so an early, duplicate or lost
callback is harmless; the reconciler covers the lost case.
"""

from __future__ import annotations

from collections.abc import Sequence

from celery import Celery, chord

from shared.messaging import RECOVER_RESOURCE, SCHEDULER_QUEUE, WAVE_FINISHED, recover_resource_kwargs, worker_queue


class ChordDispatcher:
    def __init__(self, app: Celery):
        self.app = app

    def dispatch_wave(self, execution_id: str, wave_number: int, runs: Sequence[tuple[int, str, str]]) -> None:
        """runs: (resource_run_id, adapter, arn) triples."""
        header = [
            self.app.signature(
                RECOVER_RESOURCE,
                args=(run_id,),
                kwargs=recover_resource_kwargs(execution_id, wave_number, arn),
                queue=worker_queue(adapter),
                immutable=True,
            )
            for run_id, adapter, arn in runs
        ]
        callback = self.app.signature(
            WAVE_FINISHED, args=(execution_id, wave_number), queue=SCHEDULER_QUEUE, immutable=True
        )
        chord(header, app=self.app)(callback)
