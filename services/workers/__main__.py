"""Composition root of a worker: `python -m services.workers` (a Celery worker on adapter queues)."""

from __future__ import annotations

from shared.db.engine import Database
from shared.logs import configure_logging
from shared.messaging import create_celery, worker_queue

from .adapters import registry
from .recovery import Recovery
from .settings import WorkerSettings
from .tasks import register


def build(settings: WorkerSettings):
    app = create_celery("drwave-workers", settings)
    adapters = registry.build_all(settings=settings)
    recovery = Recovery(
        Database(settings.db_url, pool_size=2),
        adapters,
        poll_interval=settings.poll_interval,
        claim_timeout=settings.claim_timeout,
        error_backoff=settings.error_backoff,
    )
    register(app, recovery, settings.error_backoff)
    return app


def queues(settings: WorkerSettings) -> list[str]:
    names = settings.worker_queues.split(",") if settings.worker_queues else registry.names()
    return [worker_queue(name.strip()) for name in names if name.strip()]


def main() -> None:
    settings = WorkerSettings()
    configure_logging(settings.log_level)
    app = build(settings)
    app.worker_main(
        [
            "worker",
            "-Q",
            ",".join(queues(settings)),
            "-n",
            f"{settings.worker_name}@%h",
            "-c",
            str(settings.worker_concurrency),
            "--loglevel",
            settings.log_level,
            "--without-mingle",
            "--without-gossip",
        ]
    )


if __name__ == "__main__":
    main()
