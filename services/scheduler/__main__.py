"""Composition root of the scheduler: `python -m services.scheduler` (a Celery worker + beat)."""

from __future__ import annotations

from shared import counters
from shared.db.engine import Database
from shared.logs import configure_logging
from shared.messaging import RECONCILE, SCHEDULER_QUEUE, Publisher, create_celery

from .dispatch import ChordDispatcher
from .orchestrator import Orchestrator
from .reconciler import Reconciler
from .settings import SchedulerSettings
from .tasks import register


def build(settings: SchedulerSettings):
    app = create_celery("drwave-scheduler", settings)
    db = Database(settings.db_url)
    orchestrator = Orchestrator(db, ChordDispatcher(app))
    reconciler = Reconciler(
        db,
        orchestrator,
        Publisher(app),
        pending_grace=settings.pending_grace,
        stale_seconds=settings.stale_seconds,
        actions=counters.RedisCounter(counters.counters_client(settings.broker_url), counters.RECONCILER_ACTIONS),
    )
    register(app, orchestrator, reconciler)
    app.conf.beat_schedule = {
        "reconcile": {
            "task": RECONCILE,
            "schedule": settings.reconcile_interval,
            "options": {"queue": SCHEDULER_QUEUE},
        }
    }
    return app


def main() -> None:
    settings = SchedulerSettings()
    configure_logging(settings.log_level, settings.log_format)
    app = build(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    app.worker_main(
        [
            *(["--quiet"] if settings.log_format == "json" else []),  # no banner: it is not a log record
            "worker",
            "-Q",
            SCHEDULER_QUEUE,
            "-n",
            "scheduler@%h",
            "-c",
            str(settings.scheduler_concurrency),
            "-B",
            "-s",
            str(settings.state_dir / "celerybeat-schedule"),
            "--loglevel",
            settings.log_level,
            "--without-mingle",
            "--without-gossip",
        ]
    )


if __name__ == "__main__":
    main()
