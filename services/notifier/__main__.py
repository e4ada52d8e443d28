"""Composition root of the notifier: `python -m services.notifier` (a Celery worker on the `notifications`
queue with its own beat for the outbox pump)."""

from __future__ import annotations

from celery.signals import worker_process_init

from shared.aws.sessions import SessionFactory, default_region
from shared.db.engine import Database
from shared.domain.notifications import Retry
from shared.messaging import (
    DELIVER_NOTIFICATION,
    NOTIFICATIONS_QUEUE,
    PUMP_NOTIFICATIONS,
    WRITE_REPORT,
    create_celery,
    every,
    run_worker,
)
from shared.notify import senders
from shared.store import deliveries

from .reports import ReportWriter
from .service import Notifier
from .settings import NotifierSettings
from .tasks import register


def build(settings: NotifierSettings):
    app = create_celery("drwave-notifier", settings)
    app.conf.worker_prefetch_multiplier = 1  # a slow receiver holds one process, not a backlog behind it
    sessions = SessionFactory(
        default_region=default_region(settings.aws_region), max_attempts=settings.aws_max_attempts
    )
    worker_process_init.connect(lambda **_: sessions.reset(), weak=False)
    db = Database(settings.db_url, pool_size=2)
    send = app.send_task
    reports = ReportWriter(db, sessions, settings.report_bucket) if settings.report_bucket else None
    notifier = Notifier(
        db,
        senders.build_all(
            sessions=sessions, timeout=settings.notify_timeout, allow_private=settings.webhook_allow_private
        ),
        Retry(
            window_seconds=settings.notify_retry_hours * 3600,
            base_seconds=settings.notify_backoff_base,
            cap_seconds=settings.notify_backoff_cap,
        ),
        lease_seconds=settings.notify_timeout + deliveries.LEASE_MARGIN,
        api_url=settings.public_api_url,
        queue_delivery=lambda i: send(DELIVER_NOTIFICATION, args=(i,), queue=NOTIFICATIONS_QUEUE),
        queue_report=(lambda e: send(WRITE_REPORT, args=(e,), queue=NOTIFICATIONS_QUEUE)) if reports else None,
    )
    register(app, notifier, reports)
    app.conf.beat_schedule = {"pump": every(settings.notify_poll_interval, PUMP_NOTIFICATIONS, NOTIFICATIONS_QUEUE)}
    return app


def main() -> None:
    settings = NotifierSettings()
    run_worker(
        build,
        settings,
        NOTIFICATIONS_QUEUE,
        "notifier@%h",
        settings.notifier_concurrency,
        beat="notifier-beat-schedule",
    )


if __name__ == "__main__":
    main()
