"""Continuous readiness: every plan's preflight evaluated every ``DRWAVE_READINESS_INTERVAL`` seconds.

It runs on a thread of the scheduler's main process, not in the worker pool, so it never takes a slot
from the wave engine's tasks. Passes never overlap: one pass at a time per process (the thread runs
them one after another), and across scheduler processes a Postgres advisory lock, held for the pass,
lets one evaluator work while the others skip. Each plan's result replaces its last one; a change of
status is recorded and handed to :func:`readiness_changed` (the one place notifications attach to).
The same loop runs the periodic EC2 → DRS tag sync when ``DRWAVE_TAG_SYNC_INTERVAL`` is set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from celery import Celery
from celery.signals import worker_ready, worker_shutdown
from sqlalchemy import text

from services.api.commands.preflight import Preflight
from shared.aws.sessions import SessionFactory
from shared.db.engine import Database
from shared.store import plans, readiness

from .settings import SchedulerSettings

log = logging.getLogger(__name__)
READINESS_LOCK = 0x64727264  # "drrd": one readiness pass at a time across schedulers
READINESS_CHANGED = "plan.readiness_changed"


def readiness_changed(plan_id: str, before: str, after: str, message: str) -> None:
    """A plan's readiness changed: the one hook for notifications (``plan.readiness_changed``)."""
    log.warning("%s %s: %s -> %s (%s)", READINESS_CHANGED, plan_id, before, after, message)


@dataclass
class PassReport:
    evaluated: int = 0
    changed: int = 0
    failed: int = 0
    skipped: bool = False


class ReadinessEvaluator:
    def __init__(
        self, db: Database, preflight: Preflight, notify: Callable[[str, str, str, str], None] = readiness_changed
    ) -> None:
        self.db = db
        self.preflight = preflight
        self.notify = notify

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
        status = evaluation.status.value
        problems = [c for c in evaluation.checks if c.status.value != "ok"]
        message = "; ".join(f"{c.name}: {c.message}" for c in problems[:3]) or "every check passed"
        with self.db.engine.begin() as conn:
            if plans.get(conn, plan_id) is None:  # deleted meanwhile
                return
            before = readiness.record(
                conn,
                plan_id,
                status=status,
                evaluated_at=datetime.now(UTC),
                checks=evaluation.checks_json(),
                rto_forecast=evaluation.rto_forecast,
            )
            if before is not None:
                readiness.add_change(conn, plan_id, before, status, message)
        report.evaluated += 1
        if before is not None:
            report.changed += 1
            self.notify(plan_id, before, status, message)


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
