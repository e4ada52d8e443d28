"""Continuous readiness: every plan's preflight evaluated every ``DRWAVE_READINESS_INTERVAL`` seconds.

It runs on a thread of the scheduler's main process, not in the worker pool, so it never takes a slot
from the wave engine's tasks. Passes never overlap: one pass at a time per process (the thread runs
them one after another), and across scheduler processes a Postgres advisory lock, held for the pass,
lets one evaluator work while the others skip. Each plan's result replaces its last one; a change of
status is recorded and notified (``plan.readiness_changed``): the change and its outbox row are written
in one unit of work, so every recorded change is notified, and only those.
The same loop runs the periodic EC2 → DRS tag sync when ``DRWAVE_TAG_SYNC_INTERVAL`` is set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutdown
from sqlalchemy import text

from services.api.commands.preflight import Evaluation, Preflight
from shared.aws.sessions import SessionFactory
from shared.db.engine import Database
from shared.domain import notifications
from shared.domain.notifications import EventType
from shared.store import plans
from shared.store.outbox import new_event_id
from shared.unit_of_work import UnitOfWorkFactory, sql_units

from .settings import SchedulerSettings

log = logging.getLogger(__name__)
READINESS_LOCK = 0x64727264  # "drrd": one readiness pass at a time across schedulers


@dataclass
class PassReport:
    evaluated: int = 0
    changed: int = 0
    failed: int = 0
    skipped: bool = False


class ReadinessEvaluator:
    def __init__(self, db: Database, preflight: Preflight, units: UnitOfWorkFactory | None = None) -> None:
        self.db = db
        self.preflight = preflight
        self.units = units or sql_units(db)

    def run_once(self) -> PassReport:
        """Evaluate every plan, unless another scheduler's pass holds the lock (then skip)."""
        report = PassReport()
        with self.db.engine.connect() as lock_conn:
            if not lock_conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": READINESS_LOCK}).scalar():
                report.skipped = True
                return report
            try:
                with self.db.engine.connect() as conn:
                    plan_ids = [row.id for row in plans.list_all(conn)]
                for plan_id in plan_ids:
                    self._evaluate(plan_id, report)
            finally:
                lock_conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": READINESS_LOCK})
                lock_conn.commit()
        return report

    def _evaluate(self, plan_id: str, report: PassReport) -> None:
        try:
            evaluation = self.preflight.evaluate(plan_id)
        except Exception as failure:  # one plan that cannot be evaluated must not stop the others
            log.warning("readiness of %s not evaluated: %s", plan_id, failure)
            report.failed += 1
            return
        report.evaluated += 1
        if self.record(plan_id, evaluation) is not None:
            report.changed += 1

    def record(self, plan_id: str, evaluation: Evaluation) -> dict[str, Any] | None:
        """Store a plan's evaluation; on a change of status also record the change and write its
        ``plan.readiness_changed`` event to the outbox, in the same transaction. The event's envelope when
        the status changed, else None (and None for a plan deleted meanwhile)."""
        status = evaluation.status.value
        problems = [c for c in evaluation.checks if c.status.value != "ok"]
        message = "; ".join(f"{c.name}: {c.message}" for c in problems[:3]) or "every check passed"
        now = datetime.now(UTC)
        with self.units() as uow:
            plan = uow.plans.get(plan_id)
            if plan is None:  # deleted meanwhile
                return None
            before = uow.readiness.record(
                plan_id,
                status=status,
                evaluated_at=now,
                checks=evaluation.checks_json(),
                rto_forecast=evaluation.rto_forecast,
            )
            if before is None:
                return None
            uow.readiness.add_change(plan_id, before, status, message)
            envelope = notifications.readiness_changed(
                event_id=new_event_id(),
                at=now,
                plan={"id": plan.id, "name": plan.name},
                before=before,
                after=status,
                problems=[c.as_json() for c in problems],
            )
            uow.outbox.emit(kind=EventType.PLAN_READINESS_CHANGED.value, envelope=envelope)
        log.info("%s %s: %s -> %s (%s)", EventType.PLAN_READINESS_CHANGED, plan_id, before, status, message)
        return envelope


class PeriodicLoop:
    """Runs ``action`` every ``interval`` seconds on a daemon thread, one run after another."""

    def __init__(self, name: str, interval: float, action: Callable[[], object]) -> None:
        self.name = name
        self.interval = interval
        self.action = action
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> PeriodicLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                result = self.action()
                log.info("%s: %s", self.name, result)
            except Exception:
                log.exception("%s failed; next run in %.0f s", self.name, self.interval)
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))


def install(app: Celery, settings: SchedulerSettings) -> None:
    """Start the readiness (and tag sync) loops when the scheduler's worker is up, in its main process."""
    loops: list[PeriodicLoop] = []

    @worker_ready.connect(weak=False)
    def _start(**_: object) -> None:
        from services.api.commands.resolve import Resolver
        from shared.aws.discovery import Discovery
        from shared.aws.preflight import PreflightProbe

        db = Database(settings.db_url)
        sessions = SessionFactory(
            default_region=settings.aws_region or "us-east-1", max_attempts=settings.aws_max_attempts
        )
        preflight = Preflight(
            db,
            Resolver(db, Discovery(sessions)),
            PreflightProbe(sessions, max_replication_lag=settings.max_replication_lag),
        )
        loops.append(PeriodicLoop("readiness", settings.readiness_interval, ReadinessEvaluator(db, preflight).run_once))
        if settings.tag_sync_interval:
            from services.scheduler.tag_sync import PeriodicTagSync

            loops.append(PeriodicLoop("tag-sync", settings.tag_sync_interval, PeriodicTagSync(db, sessions).run_once))
        for loop in loops:
            loop.start()

    @worker_shutdown.connect(weak=False)
    def _stop(**_: object) -> None:
        for loop in loops:
            loop.stop()
