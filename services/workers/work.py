"""What a worker's step works with: the resource run it loaded (:class:`Work`), what it returns
(:class:`Envelope` or :class:`PollAgain`), how long it waits (:class:`Timing`) and how a run's end is
recorded. Shared by the resource step (``recovery.py``) and launch-batch members (``batches.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row

from shared.domain import polling
from shared.domain.progress import Phase
from shared.domain.states import ExecutionStatus, ResourceStatus
from shared.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .accounts import NO_ROLE, Access
from .adapters.base import Adapter, Outcome, Progress, ResourceContext, RetryLater

log = logging.getLogger(__name__)
ACTOR = "worker"
CLAIM_MARGIN_SECONDS = 30.0  # past an action's timeout before its silent start claim is taken over
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


@dataclass(frozen=True)
class Work:
    """A resource run joined with its execution and wave (``resources.load_work``): all a step decides on."""

    id: int
    execution_id: str
    arn: str
    adapter: str
    status: ResourceStatus
    wave_number: int
    operation_id: str | None
    detail: dict[str, Any] | None
    start_attempts: int
    started_at: datetime | None
    attempt: int  # retry (issue 12): which attempt of this run this is, 1 first
    mode: str
    phase: Phase
    failover: str  # the execution's failover options (shared.domain.failover): how Aurora moves a writer
    allow_data_loss: bool
    data_loss_approved_by: str | None  # data loss approved for this run's cluster only (a data loss pause)
    execution_status: ExecutionStatus
    wave_started_at: datetime | None
    timeout_seconds: int
    now: datetime
    action: dict[str, Any] | None = None  # a wave action's spec; None for a resource
    stage: int = 0

    @classmethod
    def of(cls, row: Row) -> Work:
        values = _columns_of(row)
        values["status"] = RS(row.status)
        values["phase"] = Phase(row.phase)
        values["execution_status"] = ExecutionStatus(row.execution_status)
        return cls(**values)

    def updated(self, changed: Row) -> Work:
        """This run with the columns a write returned (a compare-and-set's ``RETURNING``)."""
        values = _columns_of(changed)
        if "status" in values:
            values["status"] = RS(values["status"])
        return replace(self, **values)

    def context(self, access: Access = NO_ROLE, source: dict | None = None) -> ResourceContext:
        """What the adapter is told about this run."""
        names = ("arn", "wave_number", "started_at", "now", "operation_id", "attempt", "failover")
        own = {name: getattr(self, name) for name in names}
        own["data_loss_approved_by"] = self.data_loss_approved_by
        own["allow_data_loss"] = self.allow_data_loss or self.data_loss_approved_by is not None
        extra = {"detail": dict(self.detail or {}), "source_detail": dict(source or {}), "action": self.action or {}}
        return ResourceContext(resource_run_id=self.id, **own, **extra, **self.acting(access))

    def deadline(self) -> tuple[datetime, int] | None:
        """When this run times out and after how many seconds: a resource at its wave's timeout from the
        wave's start, an action at its own ``timeoutSeconds`` from its claim."""
        if self.action is not None:
            seconds = int(self.action["timeoutSeconds"])
            return (self.started_at + timedelta(seconds=seconds), seconds) if self.started_at else None
        if self.wave_started_at is None:
            return None
        return self.wave_started_at + timedelta(seconds=self.timeout_seconds), self.timeout_seconds

    def stale_claim(self, claim_timeout: float) -> float:
        """How long a start claim without an operation id stays its owner's: an action's start (a Lambda
        invoke waits for the function's answer) for its whole timeout, so a duplicate task never invokes twice."""
        if self.action is not None:
            return max(claim_timeout, float(self.action["timeoutSeconds"]) + CLAIM_MARGIN_SECONDS)
        return claim_timeout

    def account(self) -> str:
        """What names the account to act in: an action's own account (or its function's ARN), else the ARN."""
        if self.action is not None:
            return self.action.get("accountId") or self.action.get("functionArn") or ""
        return self.arn

    def acting(self, access: Access) -> dict[str, Any]:
        """Who acts for which execution and phase: what the contexts of a run and of its batch share."""
        role_arn, external_id = access
        phase = self.phase.value
        return {
            "execution_id": self.execution_id,
            "mode": self.mode,
            "phase": phase,
            "role_arn": role_arn,
            "external_id": external_id,
        }

    def member_context(self, member: Row, access: Access, source: dict | None) -> ResourceContext:
        """What the adapter is told about another run of this run's launch batch, at the batch's start."""
        return replace(
            self.context(access, source),
            resource_run_id=member.id,
            arn=member.arn,
            attempt=member.attempt,
            detail=dict(member.detail or {}),
            started_at=None,
            now=None,
            operation_id=None,
        )

    def merged_detail(self, progress: Progress) -> dict[str, Any] | None:
        """The run's detail with what a poll reported, or None when it reported nothing new."""
        return {**(self.detail or {}), **progress.detail} if progress.detail else None


WORK_FIELDS = frozenset(f.name for f in fields(Work))


def _columns_of(row: Row) -> dict[str, Any]:
    """The row's columns that are fields of :class:`Work` (a key look-up: a missed attribute costs a
    raised and caught error per field, on every step)."""
    return {name: value for name, value in row._mapping.items() if name in WORK_FIELDS}


@dataclass(frozen=True)
class Timing:
    poll_interval: float  # the longest wait between two look-ups of an operation
    claim_timeout: float  # a start claim older than this is presumed dead and may be re-claimed
    error_backoff: float  # the wait after a retryable error that named no wait of its own
    poll_tight: float = 1.0  # the wait near an operation's expected end
    scope_gap: float = 1.0  # the least time between two batch look-ups in one account and Region

    def next_poll(self, progress: Progress, work: Work | None = None, expected: float | None = None) -> float:
        """The adapter's own wait if it named one, else the schedule of `shared.domain.polling` for an
        operation running since the run started (`expected`: the typical duration of its kind)."""
        if progress.retry_after is not None:
            return max(0.0, min(progress.retry_after, self.poll_interval))
        if work is None or work.started_at is None:
            return self.poll_interval
        elapsed = (work.now - work.started_at).total_seconds()
        return polling.next_poll(elapsed, expected, self.poll_interval, self.poll_tight)

    def backoff(self, error: RetryLater) -> float:
        return error.after if error.after is not None else self.error_backoff

    def short_wait(self) -> float:
        return min(self.poll_interval, 1.0)


def record(uow: UnitOfWork, ctx: ResourceContext, progress: Progress) -> Envelope:
    """IN_PROGRESS -> SUCCEEDED | FAILED with what the adapter reported; another writer's end stands."""
    target = RS.SUCCEEDED if progress.outcome is Outcome.SUCCEEDED else RS.FAILED
    detail = {**ctx.detail, **progress.detail} or None
    moved = uow.resources.move(
        ctx.resource_run_id,
        RS.IN_PROGRESS,
        target,
        actor=ACTOR,
        values={"error": progress.error, "detail": detail},
        attempt=ctx.attempt,  # a late answer about an earlier attempt leaves a retry's new one alone
    )
    if moved is None:
        return Envelope(ctx.resource_run_id, uow.resources.load_work(ctx.resource_run_id).status)
    if target is RS.FAILED:
        log.warning("[%s] %s failed: %s", ctx.execution_id, ctx.arn, progress.error)
    return Envelope(ctx.resource_run_id, target.value)


def finish(
    units: UnitOfWorkFactory, work: Work, expected: ResourceStatus, error: str, code: str | None = None
) -> Envelope:
    """``expected`` -> FAILED with ``error`` (and its ``code``, when the scheduler acts on it); the envelope
    carries whatever status the run ends up in."""
    values, logged = ({"error": error, "error_code": code}, {"errorCode": code}) if code else ({"error": error}, None)
    with units() as uow:
        uow.resources.move(
            work.id, expected, RS.FAILED, actor=ACTOR, values=values, detail=logged, attempt=work.attempt
        )
        current = uow.resources.load_work(work.id)
    return Envelope(work.id, current.status)


def earlier_details(uow: UnitOfWork, adapter: Adapter, work: Work, arns: list[str]) -> dict[str, dict]:
    """What earlier phases recorded about these resources (an instantiate has no earlier phase)."""
    if not adapter.uses_aws or work.phase is Phase.INSTANTIATE:
        return {}
    return uow.resources.source_details(work.execution_id, arns)


class LearnedDurations:
    """Typical durations of each adapter's phase (``resources.typical_duration``), read from Postgres at
    most once per `ttl` seconds per kind and process: what tightens polling near an operation's end."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._known: dict[tuple[str, str], tuple[float, float | None]] = {}
        self._lock = threading.Lock()

    def expected(self, uow: UnitOfWork, work: Work) -> float | None:
        key = (work.adapter, work.phase.value)
        now = time.monotonic()
        with self._lock:
            cached = self._known.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        value = uow.resources.typical_duration(*key)
        with self._lock:
            self._known[key] = (now + self.ttl, value)
        return value
