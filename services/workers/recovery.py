"""The workers' service layer: move one resource run forward by one short step.

A step re-reads the run, claims it with a compare-and-set, starts the adapter's operation once
(the operation id is stored before any polling, so a redelivered task polls instead of starting a
second recovery) and polls it. It returns either a final envelope or "poll again in N seconds";
it never raises for an expected failure, so the wave's chord callback always runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Row

from shared.db.engine import Database
from shared.domain.states import RESOURCE_TERMINAL, ExecutionStatus, ResourceStatus
from shared.store import resources

from .adapters.base import Adapter, Outcome, Progress, ResourceContext

log = logging.getLogger(__name__)
ACTOR = "worker"
RS = ResourceStatus


@dataclass(frozen=True)
class Envelope:
    """The small deterministic result a recovery task returns to its chord."""

    resource_run_id: int
    status: str

    def as_dict(self) -> dict:
        return {"resource_run_id": self.resource_run_id, "status": self.status}


@dataclass(frozen=True)
class PollAgain:
    after: float


class Recovery:
    def __init__(
        self,
        db: Database,
        adapters: dict[str, Adapter],
        *,
        poll_interval: float,
        claim_timeout: float,
        error_backoff: float,
    ):
        self.db = db
        self.adapters = adapters
        self.poll_interval = poll_interval
        self.claim_timeout = claim_timeout
        self.error_backoff = error_backoff

    def step(self, run_id: int) -> Envelope | PollAgain:
        with self.db.engine.begin() as conn:
            run = resources.load_work(conn, run_id)
            if run is None:
                log.warning("resource run %s does not exist", run_id)
                return Envelope(run_id, "MISSING")
            if run.status in RESOURCE_TERMINAL:
                return Envelope(run_id, run.status)
            early = self._refuse_or_expire(conn, run)
            if early is not None:
                return early
            if run.status == RS.PENDING:
                claimed = resources.move(conn, run_id, RS.PENDING, RS.STARTING, actor=ACTOR)
                if claimed is None:  # a duplicate delivery claimed it first
                    return PollAgain(min(self.poll_interval, 1.0))
            elif run.status == RS.STARTING and run.operation_id is None:
                reclaimed = resources.reclaim_stale_start(conn, run_id, run.start_attempts, self.claim_timeout)
                if reclaimed is None:  # its owner is (probably) still starting it
                    return PollAgain(min(self.poll_interval, self.claim_timeout))
                log.warning("[%s] %s: re-claimed a start whose worker went silent", run.execution_id, run.arn)
            run = resources.load_work(conn, run_id)
        adapter = self.adapters.get(run.adapter)
        if adapter is None:
            return self._finish(run, RS(run.status), RS.FAILED, f"no adapter named {run.adapter!r}")
        if run.status == RS.STARTING:
            return self._start(adapter, run)
        return self._poll(adapter, run, self._context(run))

    # --- steps --------------------------------------------------------------------------------

    def _refuse_or_expire(self, conn, run: Row) -> Envelope | None:
        if run.status == RS.PENDING and run.execution_status in (
            ExecutionStatus.CANCELLING,
            ExecutionStatus.CANCELLED,
        ):
            resources.move(conn, run.id, RS.PENDING, RS.CANCELLED, actor=ACTOR, values={"error": "execution cancelled"})
            return Envelope(run.id, RS.CANCELLED.value)
        if run.wave_started_at is not None:
            deadline = run.wave_started_at + timedelta(seconds=run.timeout_seconds)
            if run.now >= deadline:
                resources.move(
                    conn,
                    run.id,
                    RS(run.status),
                    RS.TIMED_OUT,
                    actor=ACTOR,
                    values={"error": f"wave timeout of {run.timeout_seconds}s reached"},
                )
                return Envelope(run.id, RS.TIMED_OUT.value)
        return None

    def _start(self, adapter: Adapter, run: Row) -> Envelope | PollAgain:
        ctx = self._context(run)
        try:
            started = adapter.begin(ctx)
        except Exception as error:  # adapter errors are classified by the adapter; anything here is fatal
            log.exception("[%s] %s: start failed", run.execution_id, run.arn)
            return self._finish(run, RS.STARTING, RS.FAILED, f"start failed: {error}")
        with self.db.engine.begin() as conn:
            moved = resources.move(
                conn,
                run.id,
                RS.STARTING,
                RS.IN_PROGRESS,
                actor=ACTOR,
                values={"operation_id": started.operation_id, "detail": started.detail or None},
            )
            if moved is None:
                return PollAgain(min(self.poll_interval, 1.0))
            ctx = self._context(resources.load_work(conn, run.id))
            progress = self._safe_status(adapter, ctx)
            if progress.finished:
                return self._record(conn, ctx, progress)
        return PollAgain(self._next_poll(progress))

    def _poll(self, adapter: Adapter, run: Row, ctx: ResourceContext) -> Envelope | PollAgain:
        progress = self._safe_status(adapter, ctx)
        with self.db.engine.begin() as conn:
            if progress.finished:
                return self._record(conn, ctx, progress)
            resources.heartbeat(conn, run.id, {**(run.detail or {}), **progress.detail} if progress.detail else None)
        return PollAgain(self._next_poll(progress))

    def _record(self, conn, ctx: ResourceContext, progress: Progress) -> Envelope:
        target = RS.SUCCEEDED if progress.outcome is Outcome.SUCCEEDED else RS.FAILED
        detail = {**ctx.detail, **progress.detail} or None
        moved = resources.move(
            conn,
            ctx.resource_run_id,
            RS.IN_PROGRESS,
            target,
            actor=ACTOR,
            values={"error": progress.error, "detail": detail},
        )
        if moved is None:
            current = resources.load_work(conn, ctx.resource_run_id)
            return Envelope(ctx.resource_run_id, current.status)
        if target is RS.FAILED:
            log.warning("[%s] %s failed: %s", ctx.execution_id, ctx.arn, progress.error)
        return Envelope(ctx.resource_run_id, target.value)

    def _finish(self, run: Row, expected: ResourceStatus, target: ResourceStatus, error: str) -> Envelope:
        with self.db.engine.begin() as conn:
            resources.move(conn, run.id, expected, target, actor=ACTOR, values={"error": error})
            current = resources.load_work(conn, run.id)
        return Envelope(run.id, current.status)

    def _safe_status(self, adapter: Adapter, ctx: ResourceContext) -> Progress:
        try:
            return adapter.status(ctx)
        except Exception as error:
            log.exception("[%s] %s: status failed", ctx.execution_id, ctx.arn)
            return Progress(Outcome.FAILED, error=f"status failed: {error}")

    def _next_poll(self, progress: Progress) -> float:
        wanted = progress.retry_after if progress.retry_after is not None else self.poll_interval
        return max(0.0, min(wanted, self.poll_interval))

    @staticmethod
    def _context(run: Row) -> ResourceContext:
        return ResourceContext(
            resource_run_id=run.id,
            execution_id=run.execution_id,
            arn=run.arn,
            mode=run.mode,
            phase=run.phase,
            wave_number=run.wave_number,
            started_at=run.started_at,
            now=run.now,
            operation_id=run.operation_id,
            detail=dict(run.detail or {}),
        )
