"""Launch-batch coordination: the runs of one launch batch start together and share status look-ups.

The first member task to claim the batch starts the adapter's operation for every member and stores
its id on the batch; the others find it there. One member at a time refreshes the batch's stored
status view (at most once per poll interval); every member reads its own outcome from it. A
retryable AWS error gives the claim back. While the claimant is inside AWS (throttled retries can
outlast the claim timeout) a background thread keeps its claim fresh; a start that lost its claim all
the same records what it started as a stray of the batch. See docs/architecture.md, "Launch batches".
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy import Row

from shared.domain.batches import EarlierOperations
from shared.domain.progress import Phase
from shared.domain.states import RESOURCE_TERMINAL, BatchStatus, ResourceStatus
from shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .accounts import Access, AccountRoles
from .adapters.base import BatchAdapter, BatchContext, BatchStarted, Failed, Outcome, Progress, RetryLater
from .kept import KeptAlive, beat_every
from .work import ACTOR, Envelope, LearnedDurations, PollAgain, Timing, Work, earlier_details, record

log = logging.getLogger(__name__)
RS = ResourceStatus


class LaunchBatchMember:
    """One member run's step inside its launch batch."""

    def __init__(
        self, units: UnitOfWorkFactory, timing: Timing, roles: AccountRoles, durations: LearnedDurations
    ) -> None:
        self.units = units
        self.timing = timing
        self.roles = roles
        self.durations = durations

    def join(self, adapter: BatchAdapter, work: Work, batch_id: int) -> Envelope | PollAgain:
        """A STARTING member: take its batch's start if nobody has, else follow the batch's outcome."""
        with self.units() as uow:
            batch = uow.launch_batches.get(batch_id)
            if batch.status in (BatchStatus.STARTED, BatchStatus.FAILED):
                outcome = self._take_outcome(uow, adapter, work, batch)
                if outcome is not None:
                    return outcome
                work = Work.of(uow.resources.load_work(work.id))
                claim = None
            else:
                claim = uow.launch_batches.claim_start(batch_id, self.timing.claim_timeout)
                if claim is None:  # another member is starting the batch
                    uow.resources.heartbeat(work.id)
                    return PollAgain(self.timing.short_wait())
        if claim is not None:
            return self._start(adapter, work, claim)
        return self.poll(adapter, work, batch_id)

    def poll(self, adapter: BatchAdapter, work: Work, batch_id: int) -> Envelope | PollAgain:
        with self.units() as uow:
            expected = self.durations.expected(uow, work)
            # the view is as fresh as this member's schedule wants (tight near the expected end)
            ttl = max(0.5, self.timing.next_poll(Progress(Outcome.IN_PROGRESS), work, expected) - 0.1)
            batch = uow.launch_batches.get(batch_id)
            view = batch.view
            fresh = view is not None and batch.view_age is not None and float(batch.view_age) < ttl
            refresh = not fresh and uow.launch_batches.claim_view(batch_id, ttl, self.timing.scope_gap)
            # the shared poller of the account+Region: the one look-up serves its other batches too
            neighbours = uow.launch_batches.claim_scope_views(batch_id, ttl) if refresh else []
            access = self.roles.access(uow, adapter, batch.account_id or work.arn, work.detail)
        if refresh:
            looked = self._describe(adapter, work, [batch, *neighbours], access)
            if looked:
                with self.units() as uow:
                    for looked_id, looked_view in looked.items():
                        uow.launch_batches.store_view(looked_id, looked_view)
            view = looked.get(batch_id, view) if looked else view
        if view is None:  # nothing looked up yet (another member is asking AWS, or AWS said "later")
            with self.units() as uow:
                uow.resources.heartbeat(work.id)
            return PollAgain(self.timing.error_backoff if refresh else self.timing.short_wait())
        ctx = work.context(access)
        try:
            progress = adapter.member_status(view, ctx)
        except Exception as error:
            log.exception("[%s] %s: reading the batch status failed", work.execution_id, work.arn)
            progress = Progress(Outcome.FAILED, error=f"status failed: {error}")
        with self.units() as uow:
            if progress.finished:
                return record(uow, ctx, progress)
            uow.resources.heartbeat(work.id, work.merged_detail(progress))
        return PollAgain(self.timing.next_poll(progress, work, expected))

    def _start(self, adapter: BatchAdapter, work: Work, claim: Row) -> Envelope | PollAgain:
        """The claimant starts the batch's operation for every member, once, and records it."""
        batch_id = claim.id
        with self.units() as uow:
            members = [m for m in uow.launch_batches.members(batch_id) if m.status not in RESOURCE_TERMINAL]
            sources = earlier_details(uow, adapter, work, [m.arn for m in members])
            earlier = EarlierOperations()
            if adapter.uses_aws and work.phase is not Phase.INSTANTIATE:
                earlier = uow.launch_batches.earlier_operations(work.execution_id, adapter.name)
            access = self.roles.access(uow, adapter, claim.account_id or work.arn, work.detail)
        if claim.start_attempts > 1:
            log.warning("[%s] batch %s: re-claimed a start whose worker went silent", work.execution_id, batch_id)
        batch_ctx = _batch_context(
            work,
            claim,
            access,
            attempt=claim.start_attempts,
            members=tuple(work.member_context(m, access, sources.get(m.arn, {})) for m in members),
            earlier=earlier,
        )
        started: BatchStarted | None = None
        error: str | None = None
        try:
            with kept_claim(self.units, claim, work.id, beat_every(self.timing.claim_timeout)):
                started = adapter.start_batch(batch_ctx)
        except RetryLater as deferred:
            log.warning("[%s] batch %s: start deferred: %s", work.execution_id, batch_id, deferred)
            with self.units() as uow:
                uow.launch_batches.release(batch_id, claim.start_attempts)
                uow.resources.heartbeat(work.id)
            return PollAgain(self.timing.backoff(deferred))
        except Failed as failed:
            error = str(failed)
        except Exception as failed:
            log.exception("[%s] batch %s: start failed", work.execution_id, batch_id)
            error = f"start failed: {failed}"
        with self.units() as uow:
            if started is not None:
                self._record_start(uow, adapter, work, claim, started, len(members))
            else:
                uow.launch_batches.fail(batch_id, claim.start_attempts, error or "start failed", actor=ACTOR)
            outcome = self._take_outcome(uow, adapter, work, uow.launch_batches.get(batch_id))
            if outcome is not None:
                return outcome
            work = Work.of(uow.resources.load_work(work.id))
        return self.poll(adapter, work, batch_id)

    @staticmethod
    def _record_start(
        uow: UnitOfWork, adapter: BatchAdapter, work: Work, claim: Row, started: BatchStarted, count: int
    ) -> None:
        recorded = uow.launch_batches.record_start(
            claim.id,
            claim.start_attempts,
            operation_id=started.operation_id,
            detail=started.detail,
            outcomes={
                str(run_id): {"outcome": p.outcome.value, "error": p.error, "detail": p.detail}
                for run_id, p in started.members.items()
            },
            actor=ACTOR,
            message=f"{adapter.name} {work.phase.value}: operation {started.operation_id} started for "
            f"{count} resources (batch {claim.id})",
        )
        if recorded is None:  # re-claimed meanwhile: what this claim started must stay on record all the same
            log.warning(
                "[%s] batch %s: claim lost while starting it; operation %s kept as a stray",
                work.execution_id,
                claim.id,
                started.operation_id,
            )
            uow.launch_batches.record_stray(
                claim.id, claim.start_attempts, operation_id=started.operation_id, detail=started.detail, actor=ACTOR
            )

    def _take_outcome(
        self, uow: UnitOfWork, adapter: BatchAdapter, work: Work, batch: Row
    ) -> Envelope | PollAgain | None:
        """Move a STARTING member along with its started (or failed) batch; None: poll it now."""
        if batch.status == BatchStatus.FAILED:
            uow.resources.move(
                work.id, RS.STARTING, RS.FAILED, actor=ACTOR, values={"error": batch.error}, attempt=work.attempt
            )
            return Envelope(work.id, uow.resources.load_work(work.id).status)
        if batch.status != BatchStatus.STARTED:
            return PollAgain(self.timing.short_wait())
        member = (batch.outcomes or {}).get(str(work.id))
        if member is None:  # not a member when the batch started (it was terminal then): nothing was started
            error = f"batch {batch.id} started without this resource"
            uow.resources.move(
                work.id, RS.STARTING, RS.FAILED, actor=ACTOR, values={"error": error}, attempt=work.attempt
            )
            return Envelope(work.id, uow.resources.load_work(work.id).status)
        detail = dict(member.get("detail") or {})
        moved = uow.resources.move(
            work.id,
            RS.STARTING,
            RS.IN_PROGRESS,
            actor=ACTOR,
            values={"operation_id": batch.operation_id, "detail": detail or None},
            attempt=work.attempt,
        )
        if moved is None:  # another delivery of this run moved it
            return PollAgain(self.timing.short_wait())
        outcome = Outcome(member["outcome"])
        if outcome is Outcome.IN_PROGRESS:
            return None
        ctx = Work.of(uow.resources.load_work(work.id)).context()
        return record(uow, ctx, Progress(outcome, error=member.get("error")))

    @staticmethod
    def _describe(adapter: BatchAdapter, work: Work, batches: list[Row], access: Access) -> dict[int, dict] | None:
        """One status look-up for the batches (this member's first); None when AWS asked us to come back later."""
        contexts = [
            replace(
                _batch_context(work, batch, access, operation_id=batch.operation_id, detail=dict(batch.detail or {})),
                execution_id=batch.execution_id,
                mode=getattr(batch, "mode", work.mode),
            )
            for batch in batches
        ]
        try:
            return adapter.describe_batches(contexts)
        except RetryLater as error:
            log.warning("[%s] batch %s: status look-up deferred: %s", work.execution_id, batches[0].id, error)
            return None
        except Failed as error:
            return {batch.id: {"error": str(error)} for batch in batches}
        except Exception as error:
            log.exception("[%s] batch %s: status look-up failed", work.execution_id, batches[0].id)
            return {batch.id: {"error": f"status failed: {error}"} for batch in batches}


def kept_claim(units: UnitOfWorkFactory, claim: Row, run_id: int, every: float) -> KeptAlive:
    """A batch's start claim (and the claimant's run) kept fresh while the claimant is inside AWS."""

    def beat(uow: UnitOfWork) -> bool:
        kept = uow.launch_batches.keep_claim(claim.id, claim.start_attempts)
        uow.resources.heartbeat(run_id)
        return kept

    return KeptAlive(units, beat, every, f"batch {claim.id} start claim {claim.start_attempts}")


def _batch_context(work: Work, batch: Row, access: Access, **known: Any) -> BatchContext:
    """What the adapter is told about a launch batch, as seen by one of its members."""
    return BatchContext(
        batch_id=batch.id, account_id=batch.account_id, region=batch.region, **work.acting(access), **known
    )
