"""The resource step: move one resource run forward by one short step.

A step re-reads the run, claims it with a compare-and-set, starts the adapter's operation once (the
operation id is stored before any polling, so a redelivered task polls instead of starting a second
recovery) and polls it. It returns either a final envelope or "poll again in N seconds"; it never
raises for an expected failure, so the wave's chord callback always runs. Retryable AWS errors
(throttling) never fail a run: the claim is given back and the task polls again after
``error_backoff``. Runs of a launch batch go on in :mod:`.batches`; the role for a resource's account
comes from :mod:`.accounts`.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext

from shared.domain.states import RESOURCE_TERMINAL, ExecutionStatus, ResourceStatus
from shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .accounts import Access, AccountRoles
from .adapters.base import Adapter, BatchAdapter, Failed, Outcome, Progress, ResourceContext, RetryLater
from .batches import LaunchBatchMember
from .kept import KeptAlive, beat_every
from .work import ACTOR, Envelope, LearnedDurations, PollAgain, Timing, Work, earlier_details, finish, record

log = logging.getLogger(__name__)
RS = ResourceStatus


class Recovery:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        adapters: dict[str, Adapter],
        *,
        poll_interval: float,
        claim_timeout: float,
        error_backoff: float,
        account_cache_seconds: float = 30.0,
        poll_tight: float = 1.0,
        scope_gap: float = 1.0,
    ):
        self.units = units
        self.adapters = adapters
        self.timing = Timing(poll_interval, claim_timeout, error_backoff, poll_tight, scope_gap)
        self.roles = AccountRoles(account_cache_seconds)
        self.durations = LearnedDurations()
        self.batches = LaunchBatchMember(units, self.timing, self.roles, self.durations)

    def step(self, run_id: int) -> Envelope | PollAgain:
        # Every write below is one compare-and-set statement, so autocommit is as safe as a transaction
        # and needs a third of the round trips; a lone run's whole step uses this one connection, checked
        # out once (this is the hot path of every wave).
        with self.units(autocommit=True) as uow:
            claimed_at_once = uow.resources.claim_work(run_id)  # the first step of most runs: one round trip
            work = Work.of(claimed_at_once) if claimed_at_once is not None else self._loaded(uow, run_id)
            if not isinstance(work, Work):
                return work
            adapter = self.adapters.get(work.adapter)
            batch_id = uow.launch_batches.batch_of(run_id) if isinstance(adapter, BatchAdapter) else None
            if claimed_at_once is None:
                claimed = self._claim(uow, work, alone=batch_id is None)
                if isinstance(claimed, PollAgain):
                    return claimed
                work = claimed
            if adapter is not None and batch_id is None:
                access = self.roles.access(uow, adapter, work.account(), work.detail)
                if work.status is RS.STARTING:
                    return self._start(uow, adapter, work, access)
                return self._poll(uow, work, adapter, work.context(access))
        if adapter is None:
            return finish(self.units, work, work.status, f"no adapter named {work.adapter!r}")
        if work.status is RS.STARTING:
            return self.batches.join(adapter, work, batch_id)
        return self.batches.poll(adapter, work, batch_id)

    def _loaded(self, uow: UnitOfWork, run_id: int) -> Work | Envelope:
        """The run as it is, or the step's answer when it ends here: gone, over, not its turn yet, refused
        (its execution is cancelling) or past its deadline."""
        row = uow.resources.load_work(run_id)
        if row is None:
            log.warning("resource run %s does not exist", run_id)
            return Envelope(run_id, "MISSING")
        work = Work.of(row)
        if work.status in RESOURCE_TERMINAL:
            return Envelope(run_id, work.status.value)
        if work.status is RS.PENDING and work.wave_started_at is None:
            # its wave has not started (again): a stale task, redelivered after a retry put the run
            # back to PENDING; the wave's start dispatches it, so claim nothing (wave order holds)
            return Envelope(run_id, work.status.value)
        return self._refuse_or_expire(uow, work) or work

    def _claim(self, uow: UnitOfWork, work: Work, *, alone: bool) -> Work | PollAgain:
        """PENDING -> STARTING, or a re-claim of a lone start whose worker went silent before it recorded
        an operation id; anything else goes on as it is."""
        if work.status is RS.PENDING:
            claimed = uow.resources.move(work.id, RS.PENDING, RS.STARTING, actor=ACTOR)
            if claimed is None:  # a duplicate delivery claimed it first
                return PollAgain(self.timing.short_wait())
            return work.updated(claimed)
        if work.status is RS.STARTING and work.operation_id is None and alone:
            stale = work.stale_claim(self.timing.claim_timeout)
            reclaimed = uow.resources.reclaim_stale_start(work.id, work.start_attempts, stale)
            if reclaimed is None:  # its owner is (probably) still starting it
                return PollAgain(min(self.timing.poll_interval, stale))
            log.warning("[%s] %s: re-claimed a start whose worker went silent", work.execution_id, work.arn)
            return work.updated(reclaimed)
        return work

    def _refuse_or_expire(self, uow: UnitOfWork, work: Work) -> Envelope | None:
        if work.status is RS.PENDING and work.execution_status in (
            ExecutionStatus.CANCELLING,
            ExecutionStatus.CANCELLED,
        ):
            uow.resources.move(work.id, RS.PENDING, RS.CANCELLED, actor=ACTOR, values={"error": "execution cancelled"})
            return Envelope(work.id, RS.CANCELLED.value)
        deadline = work.deadline()
        if deadline is not None and work.now >= deadline[0]:
            what = "action" if work.action is not None else "wave"
            stopped = self._abandon(uow, work)
            uow.resources.move(
                work.id,
                work.status,
                RS.TIMED_OUT,
                actor=ACTOR,
                values={"error": f"{what} timeout of {deadline[1]}s reached" + (f"; {stopped}" if stopped else "")},
                attempt=work.attempt,
            )
            return Envelope(work.id, RS.TIMED_OUT.value)
        return None

    def _abandon(self, uow: UnitOfWork, work: Work) -> str | None:
        """Stop what a timed-out run left running, where its adapter can (best effort: the timeout stands)."""
        adapter = self.adapters.get(work.adapter)
        if adapter is None or work.operation_id is None:
            return None
        try:
            return adapter.abandon(work.context(self.roles.access(uow, adapter, work.account(), work.detail)))
        except Exception as error:  # AWS said no, or did not answer: the run times out all the same
            log.warning("[%s] %s: could not stop %s: %s", work.execution_id, work.arn, work.operation_id, error)
            return None

    def _start(self, uow: UnitOfWork, adapter: Adapter, work: Work, access: Access) -> Envelope | PollAgain:
        source = earlier_details(uow, adapter, work, [work.arn]).get(work.arn, {})
        try:
            with self._kept_start(adapter, work):
                started = adapter.begin(work.context(access, source))
        except RetryLater as error:  # throttled even after botocore's retries: give the claim back, try again
            log.warning("[%s] %s: start deferred: %s", work.execution_id, work.arn, error)
            uow.resources.release_start(work.id, work.start_attempts)
            return PollAgain(self.timing.backoff(error))
        except Failed as error:
            log.warning("[%s] %s: start failed: %s", work.execution_id, work.arn, error)
            return finish(self.units, work, RS.STARTING, str(error), error.code)
        except Exception as error:  # a bug or an unexpected answer: record it, never crash the chord
            log.exception("[%s] %s: start failed", work.execution_id, work.arn)
            return finish(self.units, work, RS.STARTING, f"start failed: {error}")
        # The operation id is committed (autocommit) before the first poll: a task redelivered from here on
        # polls the operation instead of starting a second one.
        moved = uow.resources.move(
            work.id,
            RS.STARTING,
            RS.IN_PROGRESS,
            actor=ACTOR,
            values={"operation_id": started.operation_id, "detail": started.detail or None},
            message=started.decision and f"{work.arn}: {started.decision}",
            attempt=work.attempt,
        )
        if moved is None:
            return PollAgain(self.timing.short_wait())
        work = work.updated(moved)
        return self._poll(uow, work, adapter, work.context(access))

    def _kept_start(self, adapter: Adapter, work: Work) -> AbstractContextManager:
        """An AWS start keeps its claim alive while it waits for AWS (kept.py); a local one is instant."""
        if not adapter.uses_aws:
            return nullcontext()
        return KeptAlive(
            self.units,
            lambda uow: uow.resources.keep_start(work.id, work.start_attempts),
            beat_every(self.timing.claim_timeout),
            f"{work.arn} start claim {work.start_attempts}",
        )

    def _poll(self, uow: UnitOfWork, work: Work, adapter: Adapter, ctx: ResourceContext) -> Envelope | PollAgain:
        progress = self._safe_status(adapter, ctx)
        if isinstance(progress, PollAgain):
            uow.resources.heartbeat(work.id)
            return progress
        if progress.finished:
            return record(uow, ctx, progress)
        uow.resources.heartbeat(work.id, work.merged_detail(progress))
        return PollAgain(self.timing.next_poll(progress, work, self.durations.expected(uow, work)))

    def _safe_status(self, adapter: Adapter, ctx: ResourceContext) -> Progress | PollAgain:
        try:
            return adapter.status(ctx)
        except RetryLater as error:
            log.warning("[%s] %s: status deferred: %s", ctx.execution_id, ctx.arn, error)
            return PollAgain(self.timing.backoff(error))
        except Failed as error:
            return Progress(Outcome.FAILED, error=str(error))
        except Exception as error:
            log.exception("[%s] %s: status failed", ctx.execution_id, ctx.arn)
            return Progress(Outcome.FAILED, error=f"status failed: {error}")
