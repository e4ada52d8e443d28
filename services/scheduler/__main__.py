"""Composition root of the scheduler: `python -m services.scheduler` (a Celery worker + beat)."""

from __future__ import annotations

from shared import counters
from shared.db.engine import Database
from shared.messaging import RECONCILE, SCHEDULER_QUEUE, Publisher, create_celery, every, run_worker
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
    app.conf.beat_schedule = {"reconcile": every(settings.reconcile_interval, RECONCILE, SCHEDULER_QUEUE)}
    return app


def main() -> None:
    settings = SchedulerSettings()
    run_worker(
        build, settings, SCHEDULER_QUEUE, "scheduler@%h", settings.scheduler_concurrency, beat="celerybeat-schedule"
    )


if __name__ == "__main__":
    main()
