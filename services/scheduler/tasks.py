"""Scheduler tasks: thin glue that parses ids and calls one service function each."""

from __future__ import annotations

import logging

from celery import Celery

from shared.logs import log_context
from shared.messaging import ADVANCE_EXECUTION, RECONCILE, START_EXECUTION, WAVE_FINISHED

from .orchestrator import Orchestrator
from .reconciler import Reconciler

log = logging.getLogger(__name__)


def register(app: Celery, orchestrator: Orchestrator, reconciler: Reconciler) -> None:
    @app.task(name=START_EXECUTION, ignore_result=True)
    def start_execution(execution_id: str) -> None:
        with log_context(execution_id=execution_id):
            orchestrator.start(execution_id)

    @app.task(name=ADVANCE_EXECUTION, ignore_result=True)
    def advance_execution(execution_id: str) -> None:
        with log_context(execution_id=execution_id):
            orchestrator.advance(execution_id)

    @app.task(name=WAVE_FINISHED, ignore_result=True)
    def wave_finished(execution_id: str, wave_number: int) -> None:
        with log_context(execution_id=execution_id, wave=wave_number):
            log.debug("[%s] chord callback for wave %s", execution_id, wave_number)
            orchestrator.advance(execution_id)

    @app.task(name=RECONCILE, ignore_result=True, expires=60)
    def reconcile() -> None:
        report = reconciler.run_once()
        if report.started or report.timed_out or report.republished:
            log.warning("reconciler: %s", report)
