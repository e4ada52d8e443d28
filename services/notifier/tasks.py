"""Notifier tasks: thin glue that parses ids and calls one service function each."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from celery import Celery

from shared.messaging import DELIVER_NOTIFICATION, PUMP_NOTIFICATIONS, WRITE_REPORT

from .reports import ReportWriter
from .service import Notifier

log = logging.getLogger(__name__)


def register(app: Celery, notifier: Notifier, reports: ReportWriter | None) -> None:
    @app.task(name=PUMP_NOTIFICATIONS, ignore_result=True, expires=30)
    def pump() -> None:
        report = notifier.pump()
        if report.fanned_out or report.queued:
            log.debug("notifications: %s", report)

    @app.task(name=DELIVER_NOTIFICATION, ignore_result=True)
    def deliver(delivery_id: int) -> None:
        notifier.deliver(delivery_id)

    if reports is not None:

        @app.task(
            name=WRITE_REPORT,
            ignore_result=True,
            autoretry_for=(ClientError, BotoCoreError),
            retry_backoff=True,
            max_retries=8,
        )
        def write_report(execution_id: str) -> None:
            reports.write(execution_id)
