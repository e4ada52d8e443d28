"""Composition root of a worker: `python -m services.workers` (a Celery worker on adapter queues)."""

from __future__ import annotations

from celery.signals import worker_process_init

from shared import counters
from shared.aws.sessions import SessionFactory, default_region
from shared.db.engine import Database
from shared.messaging import create_celery, run_worker, worker_queue
from shared.unit_of_work import sql_units

from .adapters import registry
from .recovery import Recovery
from .settings import WorkerSettings
from .tasks import register


def session_factory(settings: WorkerSettings, aws_calls: counters.RedisCounter | None = None) -> SessionFactory:
    """The worker's one boto3 session factory. Endpoints and credentials follow boto3's standard
    configuration (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, profiles…); nothing connects here.
    Every AWS call attempt is counted in `aws_calls` (drwave_aws_calls_total on /metrics)."""
    return SessionFactory(
        default_region=default_region(settings.aws_region),
        max_attempts=settings.aws_max_attempts,
        on_call=aws_calls.inc if aws_calls is not None else None,
    )


def build(settings: WorkerSettings):
    app = create_celery("drwave-workers", settings)
    aws_calls = counters.RedisCounter(counters.counters_client(settings.broker_url), counters.AWS_CALLS)
    sessions = session_factory(settings, aws_calls)
    worker_process_init.connect(lambda **_: sessions.reset(), weak=False)  # prefork children build their own
    register(app, recovery(settings, sessions), settings.error_backoff)
    return app


def recovery(settings: WorkerSettings, sessions: SessionFactory) -> Recovery:
    """The resource step as a worker process runs it (also what `python -m bench.step_profile` profiles)."""
    adapters = registry.build_all(sessions=sessions, settings=settings)
    return Recovery(
        sql_units(Database(settings.db_url, pool_size=2)),
        adapters,
        poll_interval=settings.poll_interval,
        claim_timeout=settings.claim_timeout,
        error_backoff=settings.error_backoff,
        account_cache_seconds=settings.account_cache_seconds,
        poll_tight=settings.poll_tight,
        scope_gap=settings.status_scope_gap,
    )


def queues(settings: WorkerSettings) -> list[str]:
    """The adapter queues this worker consumes: `drs,aurora` or `workers.drs,workers.aurora`; unset: all."""
    names = settings.worker_queues.split(",") if settings.worker_queues else registry.names()
    return [worker_queue(name.strip().removeprefix("workers.")) for name in names if name.strip()]


def main() -> None:
    settings = WorkerSettings()
    run_worker(build, settings, ",".join(queues(settings)), f"{settings.worker_name}@%h", settings.worker_concurrency)


if __name__ == "__main__":
    main()
