"""Celery wiring every service shares: the app factory, queue and task names, the messages and the
one publisher that sends them.

Task names are explicit strings so the API can publish without importing scheduler or worker code.
Messages are collected by a unit of work and sent only after its transaction committed
(``shared/unit_of_work.py``); a lost one is repaired by the reconciler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from celery import Celery, chord
from kombu.transport import redis as kombu_redis

from shared.logs import configure_logging
from shared.settings import CommonSettings

S = TypeVar("S", bound=CommonSettings)

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
CHORD_SIZE = 1000  # recovery tasks per chord of a wave


def worker_queue(adapter: str) -> str:
    """One queue per adapter, so a slow technology cannot starve the others."""
    return f"workers.{adapter}"


def worker_argv(
    queues: str, name: str, concurrency: int, log_level: str, *extra: str, log_format: str = "text"
) -> list[str]:
    """The ``celery worker`` arguments every drwave worker process (scheduler or workers) runs with
    (JSON logs: no banner, it is not a log record)."""
    quiet = ["--quiet"] if log_format == "json" else []
    args = [*quiet, "worker", "-Q", queues, "-n", name, "-c", str(concurrency), *extra, "--loglevel", log_level]
    return [*args, "--without-mingle", "--without-gossip"]


def every(seconds: float, task: str, queue: str) -> dict:
    """A beat schedule entry: ``task`` sent to ``queue`` every ``seconds``."""
    return {"task": task, "schedule": seconds, "options": {"queue": queue}}


def run_worker(
    build: Callable[[S], Celery],
    settings: S,
    queues: str,
    name: str,
    concurrency: int,
    *,
    beat: str | None = None,
) -> None:
    """The entry point every drwave Celery service shares: log as configured, build the app, run it as the
    worker of ``queues``; with ``beat`` (scheduler, notifier) also its own beat, which keeps its schedule
    in the file of that name under the state directory."""
    configure_logging(settings.log_level, settings.log_format)
    app = build(settings)
    beat_args: tuple[str, ...] = ()
    if beat is not None:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        beat_args = ("-B", "-s", str(settings.state_dir / beat))
    app.worker_main(
        worker_argv(queues, name, concurrency, settings.log_level, *beat_args, log_format=settings.log_format)
    )


def recover_resource_kwargs(execution_id: str | None, wave: int | None, arn: str | None) -> dict:
    """What a recovery task carries besides its resource run id: the fields its log lines name
    (kwargs, not headers, so they survive the task's retries)."""
    return {"log_fields": {"execution_id": execution_id, "wave": wave, "arn": arn}}


class SharedClientChannel(kombu_redis.Channel):
    """kombu's Redis channel with one ``redis.Redis`` per connection pool. kombu builds a new client for
    every push, ack and pipeline (two per consumed task, one per published message) and each build copies
    redis-py's table of about 170 response callbacks (redis/redis-py#3624): about a seventh of a worker's
    CPU per task. A client holds no connection of its own (each command checks one out of the pool), so
    one serves every caller; a new pool (after a fork or a lost connection) gets a new one."""

    _shared_client = None

    def _create_client(self, asynchronous: bool = False):
        if asynchronous:  # the event loop's own client (BRPOP, pub/sub): built once by kombu already
            return super()._create_client(asynchronous=True)
        client = self._shared_client
        if client is None or client.connection_pool is not self.pool:
            client = self._shared_client = super()._create_client()
        return client


class SharedClientTransport(kombu_redis.Transport):
    Channel = SharedClientChannel


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
        broker_transport=f"{__name__}:{SharedClientTransport.__name__}",
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


@dataclass(frozen=True)
class StartExecution:
    execution_id: str


@dataclass(frozen=True)
class AdvanceExecution:
    execution_id: str


@dataclass(frozen=True)
class RecoverResource:
    resource_run_id: int
    adapter: str
    execution_id: str | None = None  # the rest only names the task's log lines
    wave: int | None = None
    arn: str | None = None


@dataclass(frozen=True)
class DispatchWave:
    """One wave to the workers: a chord of recovery tasks whose callback wakes the scheduler. The
    callback is only a hint: it re-reads Postgres, so an early, duplicate or lost one is harmless."""

    execution_id: str
    wave_number: int
    runs: tuple[tuple[int, str, str], ...]  # (resource run id, adapter, arn)


Message = StartExecution | AdvanceExecution | RecoverResource | DispatchWave


class Publisher:
    """Sends messages. Call only after the transaction that made them true has committed."""

    def __init__(self, app: Celery):
        self.app = app

    def publish(self, message: Message) -> None:
        match message:
            case StartExecution(execution_id):
                self.start_execution(execution_id)
            case AdvanceExecution(execution_id):
                self.advance_execution(execution_id)
            case RecoverResource(run_id, adapter, execution_id, wave, arn):
                self.recover_resource(run_id, adapter, execution_id=execution_id, wave=wave, arn=arn)
            case DispatchWave():
                self.dispatch_wave(message)

    def dispatch_wave(self, message: DispatchWave) -> None:
        """One chord per `CHORD_SIZE` runs, each with the wave's callback: a callback is only a hint, so
        several are as good as one, and a 10,000-resource wave never holds 10,000 signatures at once."""
        callback = self.app.signature(
            WAVE_FINISHED, args=(message.execution_id, message.wave_number), queue=SCHEDULER_QUEUE, immutable=True
        )
        for start in range(0, len(message.runs), CHORD_SIZE):
            header = [
                self.app.signature(
                    RECOVER_RESOURCE,
                    args=(run_id,),
                    kwargs=recover_resource_kwargs(message.execution_id, message.wave_number, arn),
                    queue=worker_queue(adapter),
                    immutable=True,
                )
                for run_id, adapter, arn in message.runs[start : start + CHORD_SIZE]
            ]
            chord(header, app=self.app)(callback.clone())

    def start_execution(self, execution_id: str) -> None:
        self.app.send_task(START_EXECUTION, args=(execution_id,), queue=SCHEDULER_QUEUE)

    def advance_execution(self, execution_id: str) -> None:
        self.app.send_task(ADVANCE_EXECUTION, args=(execution_id,), queue=SCHEDULER_QUEUE)

    def recover_resource(
        self,
        resource_run_id: int,
        adapter: str,
        *,
        execution_id: str | None = None,
        wave: int | None = None,
        arn: str | None = None,
    ) -> None:
        self.app.send_task(
            RECOVER_RESOURCE,
            args=(resource_run_id,),
            kwargs=recover_resource_kwargs(execution_id, wave, arn),
            queue=worker_queue(adapter),
        )
