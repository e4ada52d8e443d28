"""Celery wiring every service shares: the app factory, queue and task names, publish helpers.

Task names are explicit strings so the API can publish without importing scheduler or worker code.
"""

from __future__ import annotations

from celery import Celery

from shared.settings import CommonSettings

SCHEDULER_QUEUE = "scheduler"
START_EXECUTION = "scheduler.start_execution"
ADVANCE_EXECUTION = "scheduler.advance_execution"
WAVE_FINISHED = "scheduler.wave_finished"
RECONCILE = "scheduler.reconcile"
RECOVER_RESOURCE = "workers.recover_resource"
NOTIFICATIONS_QUEUE = "notifications"
PUMP_NOTIFICATIONS = "notifications.pump"
DELIVER_NOTIFICATION = "notifications.deliver"
WRITE_REPORT = "notifications.write_report"


def worker_queue(adapter: str) -> str:
    """One queue per adapter, so a slow technology cannot starve the others."""
    return f"workers.{adapter}"


def create_celery(name: str, settings: CommonSettings) -> Celery:
    """A Celery app bound to the given Redis; nothing connects until it is used."""
    app = Celery(name, broker=settings.broker_url, backend=settings.broker_url, set_as_current=False)
    transport = {"visibility_timeout": settings.visibility_timeout}
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=settings.prefetch_multiplier,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        result_expires=24 * 3600,
        task_default_queue=SCHEDULER_QUEUE,
        broker_connection_retry_on_startup=True,
        worker_send_task_events=settings.task_events,
        task_send_sent_event=False,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        enable_utc=True,
    )
    return app


class Publisher:
    """Sends scheduler commands. Call only after the transaction that made them true has committed."""

    def __init__(self, app: Celery):
        self.app = app

    def start_execution(self, execution_id: str) -> None:
        self.app.send_task(START_EXECUTION, args=(execution_id,), queue=SCHEDULER_QUEUE)

    def advance_execution(self, execution_id: str) -> None:
        self.app.send_task(ADVANCE_EXECUTION, args=(execution_id,), queue=SCHEDULER_QUEUE)

    def recover_resource(self, resource_run_id: int, adapter: str) -> None:
        self.app.send_task(RECOVER_RESOURCE, args=(resource_run_id,), queue=worker_queue(adapter))
