"""Composition root of the scheduler: `python -m services.scheduler` (a Celery worker + beat)."""

from __future__ import annotations

from shared import counters
from shared.db.engine import Database
from shared.logs import configure_logging
from shared.messaging import RECONCILE, SCHEDULER_QUEUE, Publisher, create_celery, worker_argv
from shared.unit_of_work import sql_units

from .orchestrator import Orchestrator
from .readiness import install as install_readiness
from .reconciler import Reconciler
from .settings import SchedulerSettings
from .tasks import register


def build(settings: SchedulerSettings):
    app = create_celery("drwave-scheduler", settings)
    units = sql_units(Database(settings.db_url), Publisher(app))
    orchestrator = Orchestrator(units)
    reconciler = Reconciler(
        units,
        orchestrator,
        pending_grace=settings.pending_grace,
        stale_seconds=settings.stale_seconds,
        actions=counters.RedisCounter(counters.counters_client(settings.broker_url), counters.RECONCILER_ACTIONS),
    )
    register(app, orchestrator, reconciler)
    install_readiness(app, settings)
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
    beat = ("-B", "-s", str(settings.state_dir / "celerybeat-schedule"))
    app.worker_main(
        worker_argv(
            SCHEDULER_QUEUE,
            "scheduler@%h",
            settings.scheduler_concurrency,
            settings.log_level,
            *beat,
            log_format=settings.log_format,
        )
    )


if __name__ == "__main__":
    main()
