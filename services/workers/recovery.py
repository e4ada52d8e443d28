"""The workers' service layer: move one resource run forward by one short step.

A step re-reads the run, claims it with a compare-and-set, starts the adapter's operation once
(the operation id is stored before any polling, so a redelivered task polls instead of starting a
second recovery) and polls it. It returns either a final envelope or "poll again in N seconds";
it never raises for an expected failure, so the wave's chord callback always runs.

Runs of a launch batch (DESIGN §6) start together: the first member task to claim the batch starts the
adapter's operation for every member and stores its id on the batch; the others find it there. Their
status look-ups are shared too: one member at a time refreshes the batch's stored view (at most once
per poll interval), every member reads its own outcome from it. Retryable AWS errors (throttling)
never fail a run: the claim is given back and the task polls again after ``error_backoff``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Row

from shared.db.engine import Database
from shared.domain.arns import location
from shared.domain.batches import BatchStatus
from shared.domain.states import RESOURCE_TERMINAL, ExecutionStatus, ResourceStatus
from shared.store import launch_batches, resources, target_accounts

from .adapters.base import (
    Adapter,
    BatchAdapter,
    BatchContext,
    BatchStarted,
    Failed,
    Outcome,
    Progress,
    ResourceContext,
    RetryLater,
)

log = logging.getLogger(__name__)
ACTOR = "worker"
RS = ResourceStatus
Access = tuple[str | None, str | None]  # (role ARN, external id); (None, None): the worker's own credentials
NO_ROLE: Access = (None, None)


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


def _updated(run: Row | SimpleNamespace, changed: Row) -> SimpleNamespace:
    """`run` (a resource run joined with its execution and wave) with the columns a write returned."""
    known = run._mapping if isinstance(run, Row) else vars(run)
    return SimpleNamespace(**{**known, **changed._mapping})


class Recovery:
    def __init__(
        self,
        db: Database,
        adapters: dict[str, Adapter],
        *,
        poll_interval: float,
        claim_timeout: float,
        error_backoff: float,
        account_cache_seconds: float = 30.0,
    ):
        self.db = db
        self.adapters = adapters
        self.poll_interval = poll_interval
        self.claim_timeout = claim_timeout
        self.error_backoff = error_backoff
        self.account_cache_seconds = account_cache_seconds
        self._accounts: dict[str, tuple[float, Access]] = {}
        self._accounts_lock = threading.Lock()

    def step(self, run_id: int) -> Envelope | PollAgain:
        # Every write below is one compare-and-set statement, so autocommit is as safe as a transaction
        # and needs a third of the round trips (this is the hot path of every wave).
        with self.db.autocommit.connect() as conn:
            run = resources.load_work(conn, run_id)
            if run is None:
                log.warning("resource run %s does not exist", run_id)
                return Envelope(run_id, "MISSING")
            if run.status in RESOURCE_TERMINAL:
                return Envelope(run_id, run.status)
            early = self._refuse_or_expire(conn, run)
            if early is not None:
                return early
            adapter = self.adapters.get(run.adapter)
            batch_id = launch_batches.batch_of(conn, run_id) if isinstance(adapter, BatchAdapter) else None
            if run.status == RS.PENDING:
                claimed = resources.move(conn, run_id, RS.PENDING, RS.STARTING, actor=ACTOR)
                if claimed is None:  # a duplicate delivery claimed it first
                    return PollAgain(self._short_wait())
                run = _updated(run, claimed)
            elif run.status == RS.STARTING and run.operation_id is None and batch_id is None:
                reclaimed = resources.reclaim_stale_start(conn, run_id, run.start_attempts, self.claim_timeout)
                if reclaimed is None:  # its owner is (probably) still starting it
                    return PollAgain(min(self.poll_interval, self.claim_timeout))
                log.warning("[%s] %s: re-claimed a start whose worker went silent", run.execution_id, run.arn)
                run = _updated(run, reclaimed)
            access = self._access(conn, adapter, run.arn, run.detail) if adapter is not None else NO_ROLE
        if adapter is None:
            return self._finish(run, RS(run.status), RS.FAILED, f"no adapter named {run.adapter!r}")
        if batch_id is not None:
            assert isinstance(adapter, BatchAdapter)
            if run.status == RS.STARTING:
                return self._join_batch(adapter, run, batch_id)
            return self._poll_batch(adapter, run, batch_id)
        if run.status == RS.STARTING:
            return self._start(adapter, run, access)
        return self._poll(adapter, run, self._context(run, access))

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

    def _start(self, adapter: Adapter, run: Row, access: Access) -> Envelope | PollAgain:
        source: dict = {}
        if adapter.uses_aws and run.phase != "instantiate":
            with self.db.engine.connect() as conn:
                source = self._sources(conn, adapter, run.execution_id, run.phase, [run.arn]).get(run.arn, {})
        ctx = self._context(run, access, source)
        try:
            started = adapter.begin(ctx)
        except RetryLater as error:  # throttled even after botocore's retries: give the claim back, try again
            log.warning("[%s] %s: start deferred: %s", run.execution_id, run.arn, error)
            with self.db.engine.begin() as conn:
                resources.release_start(conn, run.id, run.start_attempts)
            return PollAgain(self._backoff(error))
        except Failed as error:
            log.warning("[%s] %s: start failed: %s", run.execution_id, run.arn, error)
            return self._finish(run, RS.STARTING, RS.FAILED, str(error))
        except Exception as error:  # a bug or an unexpected answer: record it, never crash the chord
            log.exception("[%s] %s: start failed", run.execution_id, run.arn)
            return self._finish(run, RS.STARTING, RS.FAILED, f"start failed: {error}")
        # The operation id is committed before the first poll: a task redelivered from here on polls the
        # operation instead of starting a second one.
        with self.db.autocommit.connect() as conn:
            moved = resources.move(
                conn,
                run.id,
                RS.STARTING,
                RS.IN_PROGRESS,
                actor=ACTOR,
                values={"operation_id": started.operation_id, "detail": started.detail or None},
            )
        if moved is None:
            return PollAgain(self._short_wait())
        return self._poll(adapter, moved, self._context(_updated(run, moved), access))

    def _poll(self, adapter: Adapter, run: Row, ctx: ResourceContext) -> Envelope | PollAgain:
        progress = self._safe_status(adapter, ctx)
        with self.db.autocommit.connect() as conn:
            if isinstance(progress, PollAgain):
                resources.heartbeat(conn, run.id)
                return progress
            if progress.finished:
                return self._record(conn, ctx, progress)
            resources.heartbeat(conn, run.id, {**(run.detail or {}), **progress.detail} if progress.detail else None)
        return PollAgain(self._next_poll(progress))

    # --- launch batches -------------------------------------------------------------------------

    def _join_batch(self, adapter: BatchAdapter, run: Row, batch_id: int) -> Envelope | PollAgain:
        """A STARTING member: take its batch's start if nobody has, else follow the batch's outcome."""
        with self.db.engine.begin() as conn:
            batch = launch_batches.get(conn, batch_id)
            if batch.status in (BatchStatus.STARTED, BatchStatus.FAILED):
                outcome = self._take_outcome(conn, adapter, run, batch)
                if outcome is not None:
                    return outcome
                run = resources.load_work(conn, run.id)
                claim = None
            else:
                claim = launch_batches.claim_start(conn, batch_id, self.claim_timeout)
                if claim is None:  # another member is starting the batch
                    resources.heartbeat(conn, run.id)
                    return PollAgain(self._short_wait())
        if claim is not None:
            return self._start_batch(adapter, run, claim)
        return self._poll_batch(adapter, run, batch_id)

    def _start_batch(self, adapter: BatchAdapter, run: Row, claim: Row) -> Envelope | PollAgain:
        """The claimant starts the batch's operation for every member, once, and records it."""
        batch_id = claim.id
        with self.db.engine.begin() as conn:
            members = [m for m in launch_batches.members(conn, batch_id) if m.status not in RESOURCE_TERMINAL]
            sources = self._sources(conn, adapter, run.execution_id, run.phase, [m.arn for m in members])
            role, external_id = self._access(conn, adapter, claim.account_id or run.arn, run.detail)
        if claim.start_attempts > 1:
            log.warning("[%s] batch %s: re-claimed a start whose worker went silent", run.execution_id, batch_id)
        batch_ctx = BatchContext(
            batch_id=batch_id,
            execution_id=run.execution_id,
            mode=run.mode,
            phase=run.phase,
            account_id=claim.account_id,
            region=claim.region,
            role_arn=role,
            external_id=external_id,
            attempt=claim.start_attempts,
            members=tuple(
                ResourceContext(
                    resource_run_id=m.id,
                    execution_id=run.execution_id,
                    arn=m.arn,
                    mode=run.mode,
                    phase=run.phase,
                    wave_number=run.wave_number,
                    detail=dict(m.detail or {}),
                    role_arn=role,
                    external_id=external_id,
                    source_detail=sources.get(m.arn, {}),
                )
                for m in members
            ),
        )
        started: BatchStarted | None = None
        error: str | None = None
        try:
            started = adapter.start_batch(batch_ctx)
        except RetryLater as deferred:
            log.warning("[%s] batch %s: start deferred: %s", run.execution_id, batch_id, deferred)
            with self.db.engine.begin() as conn:
                launch_batches.release(conn, batch_id, claim.start_attempts)
                resources.heartbeat(conn, run.id)
            return PollAgain(self._backoff(deferred))
        except Failed as failed:
            error = str(failed)
        except Exception as failed:
            log.exception("[%s] batch %s: start failed", run.execution_id, batch_id)
            error = f"start failed: {failed}"
        with self.db.engine.begin() as conn:
            if started is not None:
                recorded = launch_batches.record_start(
                    conn,
                    batch_id,
                    claim.start_attempts,
                    operation_id=started.operation_id,
                    detail=started.detail,
                    outcomes={
                        str(run_id): {"outcome": p.outcome.value, "error": p.error, "detail": p.detail}
                        for run_id, p in started.members.items()
                    },
                    actor=ACTOR,
                    message=f"{adapter.name} {run.phase}: operation {started.operation_id} started for "
                    f"{len(members)} resources (batch {batch_id})",
                )
                if recorded is None:
                    log.warning("[%s] batch %s: claim lost while starting it", run.execution_id, batch_id)
            else:
                launch_batches.fail(conn, batch_id, claim.start_attempts, error or "start failed", actor=ACTOR)
            outcome = self._take_outcome(conn, adapter, run, launch_batches.get(conn, batch_id))
            if outcome is not None:
                return outcome
            run = resources.load_work(conn, run.id)
        return self._poll_batch(adapter, run, batch_id)

    def _take_outcome(
        self, conn: Connection, adapter: BatchAdapter, run: Row, batch: Row
    ) -> Envelope | PollAgain | None:
        """Move a STARTING member along with its started (or failed) batch; None: poll it now."""
        if batch.status == BatchStatus.FAILED:
            resources.move(conn, run.id, RS.STARTING, RS.FAILED, actor=ACTOR, values={"error": batch.error})
            return Envelope(run.id, resources.load_work(conn, run.id).status)
        if batch.status != BatchStatus.STARTED:
            return PollAgain(self._short_wait())
        member = (batch.outcomes or {}).get(str(run.id))
        if member is None:  # not a member when the batch started (it was terminal then): nothing was started
            error = f"batch {batch.id} started without this resource"
            resources.move(conn, run.id, RS.STARTING, RS.FAILED, actor=ACTOR, values={"error": error})
            return Envelope(run.id, resources.load_work(conn, run.id).status)
        detail = dict(member.get("detail") or {})
        moved = resources.move(
            conn,
            run.id,
            RS.STARTING,
            RS.IN_PROGRESS,
            actor=ACTOR,
            values={"operation_id": batch.operation_id, "detail": detail or None},
        )
        if moved is None:  # another delivery of this run moved it
            return PollAgain(self._short_wait())
        outcome = Outcome(member["outcome"])
        if outcome is Outcome.IN_PROGRESS:
            return None
        ctx = self._context(resources.load_work(conn, run.id), NO_ROLE)
        return self._record(conn, ctx, Progress(outcome, error=member.get("error")))

    def _poll_batch(self, adapter: BatchAdapter, run: Row, batch_id: int) -> Envelope | PollAgain:
        ttl = self.poll_interval
        with self.db.engine.begin() as conn:
            batch = launch_batches.get(conn, batch_id)
            view = batch.view
            fresh = view is not None and batch.view_age is not None and float(batch.view_age) < ttl
            refresh = not fresh and launch_batches.claim_view(conn, batch_id, ttl)
            access = self._access(conn, adapter, batch.account_id or run.arn, run.detail)
        if refresh:
            looked = self._describe(adapter, run, batch, access)
            if looked is not None:
                with self.db.engine.begin() as conn:
                    launch_batches.store_view(conn, batch_id, looked)
                view = looked
        if view is None:  # nothing looked up yet (another member is asking AWS, or AWS said "later")
            with self.db.engine.begin() as conn:
                resources.heartbeat(conn, run.id)
            return PollAgain(self.error_backoff if refresh else self._short_wait())
        ctx = self._context(run, access)
        try:
            progress = adapter.member_status(view, ctx)
        except Exception as error:
            log.exception("[%s] %s: reading the batch status failed", run.execution_id, run.arn)
            progress = Progress(Outcome.FAILED, error=f"status failed: {error}")
        with self.db.engine.begin() as conn:
            if progress.finished:
                return self._record(conn, ctx, progress)
            resources.heartbeat(conn, run.id, {**(run.detail or {}), **progress.detail} if progress.detail else None)
        return PollAgain(self._next_poll(progress))

    def _describe(self, adapter: BatchAdapter, run: Row, batch: Row, access: Access) -> dict[str, Any] | None:
        """One status look-up for the whole batch; None when AWS asked us to come back later."""
        batch_ctx = BatchContext(
            batch_id=batch.id,
            execution_id=run.execution_id,
            mode=run.mode,
            phase=run.phase,
            account_id=batch.account_id,
            region=batch.region,
            role_arn=access[0],
            external_id=access[1],
            operation_id=batch.operation_id,
            detail=dict(batch.detail or {}),
        )
        try:
            return adapter.describe_batch(batch_ctx)
        except RetryLater as error:
            log.warning("[%s] batch %s: status look-up deferred: %s", run.execution_id, batch.id, error)
            return None
        except Failed as error:
            return {"error": str(error)}
        except Exception as error:
            log.exception("[%s] batch %s: status look-up failed", run.execution_id, batch.id)
            return {"error": f"status failed: {error}"}

    # --- shared ---------------------------------------------------------------------------------

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

    def _safe_status(self, adapter: Adapter, ctx: ResourceContext) -> Progress | PollAgain:
        try:
            return adapter.status(ctx)
        except RetryLater as error:
            log.warning("[%s] %s: status deferred: %s", ctx.execution_id, ctx.arn, error)
            return PollAgain(self._backoff(error))
        except Failed as error:
            return Progress(Outcome.FAILED, error=str(error))
        except Exception as error:
            log.exception("[%s] %s: status failed", ctx.execution_id, ctx.arn)
            return Progress(Outcome.FAILED, error=f"status failed: {error}")

    def _next_poll(self, progress: Progress) -> float:
        wanted = progress.retry_after if progress.retry_after is not None else self.poll_interval
        return max(0.0, min(wanted, self.poll_interval))

    def _backoff(self, error: RetryLater) -> float:
        return error.after if error.after is not None else self.error_backoff

    def _short_wait(self) -> float:
        return min(self.poll_interval, 1.0)

    def _access(self, conn: Connection, adapter: Adapter, account_or_arn: str, detail: dict | None) -> Access:
        """The role to reach a resource's account: the registered target account's, else the worker's own."""
        if not adapter.uses_aws:
            return NO_ROLE
        account = account_or_arn if account_or_arn.isdigit() else location(account_or_arn)[0]
        account = account or (detail or {}).get("accountId")
        if not account:
            return NO_ROLE
        now = time.monotonic()
        with self._accounts_lock:
            cached = self._accounts.get(account)
        if cached is not None and cached[0] > now:
            return cached[1]
        row = target_accounts.get(conn, account)
        access: Access = (row.role_arn, row.external_id) if row is not None else NO_ROLE
        with self._accounts_lock:
            self._accounts[account] = (now + self.account_cache_seconds, access)
        return access

    @staticmethod
    def _sources(conn: Connection, adapter: Adapter, execution_id: str, phase: str, arns: list[str]) -> dict[str, dict]:
        """What earlier phases recorded about these resources (an instantiate has no earlier phase)."""
        if not adapter.uses_aws or phase == "instantiate":
            return {}
        return resources.source_details(conn, execution_id, arns)

    @staticmethod
    def _context(run: Row, access: Access = NO_ROLE, source: dict | None = None) -> ResourceContext:
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
            role_arn=access[0],
            external_id=access[1],
            source_detail=dict(source or {}),
        )
