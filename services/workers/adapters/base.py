"""The one adapter interface (docs/architecture.md, "Adapters"): a phase method starts an operation, `status` polls it.

Adapters never talk to Postgres or Celery; the recovery service stores what they return. An adapter
signals how an AWS error was classified (:func:`shared.aws.errors.classify`) by raising
:class:`RetryLater` (throttling, 5xx: poll again, never a failure) or :class:`Failed` (record it).

A :class:`BatchAdapter` starts many resources with one AWS call (DRS: ≤ 100 source servers per job):
the recovery service hands it a whole launch batch (:class:`BatchContext`) once, stores the operation
id for every member, and shares one status look-up (:meth:`BatchAdapter.describe_batch`) among the
members for about a poll interval; each member's outcome is read from that view
(:meth:`BatchAdapter.member_status`). A resource outside any batch is a batch of one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from shared.domain.batches import EarlierOperations


class Outcome(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class ResourceContext:
    """What an adapter knows about the resource it acts on."""

    resource_run_id: int
    execution_id: str
    arn: str
    mode: str  # drill | recovery
    phase: str  # instantiate | activate | cleanup | replicate
    wave_number: int
    started_at: datetime | None = None
    now: datetime | None = None
    operation_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    role_arn: str | None = None  # the target account's role, when the ARN's account is a registered one
    external_id: str | None = None
    source_detail: dict[str, Any] = field(default_factory=dict)  # what earlier phases recorded (snapshots)
    failover: str = "auto"  # the execution's failover (shared.domain.failover.Failover): how Aurora moves
    allow_data_loss: bool = False  # the execution's allowDataLoss, or a data loss approval for this run
    data_loss_approved_by: str | None = None  # who approved data loss for this run's cluster (a data loss pause)
    action: dict[str, Any] = field(default_factory=dict)  # a wave action's spec (shared/domain/actions.py)
    attempt: int = 1  # the run's attempt: a retry (issue 12) starts attempt 2, 3, ...

    @property
    def is_drill(self) -> bool:
        return self.mode == "drill"

    def elapsed_seconds(self) -> float:
        if self.started_at is None or self.now is None:
            return 0.0
        return (self.now - self.started_at).total_seconds()


@dataclass(frozen=True)
class Started:
    """An operation was started (or found already running); poll it by `operation_id`."""

    operation_id: str
    detail: dict[str, Any] = field(default_factory=dict)
    decision: str | None = None  # a choice the adapter made (Aurora: switchover or failover), for the timeline


@dataclass(frozen=True)
class Progress:
    outcome: Outcome
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    retry_after: float | None = None  # seconds until the next useful poll

    @property
    def finished(self) -> bool:
        return self.outcome is not Outcome.IN_PROGRESS


class AdapterError(Exception):
    """An AWS call did not do what was asked; the message says which call and why."""


class RetryLater(AdapterError):
    """A retryable error (throttling, 5xx, timeouts): poll again after ``after`` seconds; never a failure."""

    def __init__(self, message: str, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


class RegionUnreachable(RetryLater):
    """The Region's endpoint did not answer (connection errors, timeouts, 503 after botocore's retries).

    A :class:`RetryLater` to every caller that does not care; an adapter that can go around the Region
    (Aurora) catches it. ``region`` is the Region that did not answer, when the raiser knows it."""

    def __init__(self, message: str, after: float | None = None, region: str | None = None) -> None:
        super().__init__(message, after)
        self.region = region


class Failed(AdapterError):
    """A fatal error: the resource run is recorded FAILED with this message (and ``code``, when the failure
    is one the scheduler acts on, e.g. ``DATA_LOSS_APPROVAL_REQUIRED``)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class Adapter(ABC):
    name: ClassVar[str]
    uses_aws: ClassVar[bool] = True  # the recovery service resolves account roles and earlier phases' details

    def begin(self, ctx: ResourceContext) -> Started:
        """Start the operation of the context's phase."""
        phase = getattr(self, ctx.phase, None)
        if phase is None:
            raise ValueError(f"unknown phase {ctx.phase!r}")
        return phase(ctx)

    @abstractmethod
    def instantiate(self, ctx: ResourceContext) -> Started: ...

    @abstractmethod
    def activate(self, ctx: ResourceContext) -> Started: ...

    @abstractmethod
    def cleanup(self, ctx: ResourceContext) -> Started: ...

    @abstractmethod
    def replicate(self, ctx: ResourceContext) -> Started: ...

    @abstractmethod
    def status(self, ctx: ResourceContext) -> Progress:
        """Poll the operation `ctx.operation_id`."""

    def abandon(self, ctx: ResourceContext) -> str | None:
        """Stop the operation `ctx.operation_id` of a run that timed out, where AWS can stop it (an SSM
        Automation); what was done, for the run's error, or None (most operations cannot be stopped: a
        drill's cleanup undoes what they made)."""
        return None


@dataclass(frozen=True)
class BatchContext:
    """One launch batch: its members (resources of one account + region) and, once started, its operation."""

    batch_id: int | None
    execution_id: str
    mode: str
    phase: str
    account_id: str | None = None
    region: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    attempt: int = 1  # > 1: an earlier claimant may have reached AWS before it went silent
    operation_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    members: tuple[ResourceContext, ...] = ()
    earlier: EarlierOperations = field(
        default_factory=EarlierOperations
    )  # a later phase: what the executions it follows started

    @property
    def is_drill(self) -> bool:
        return self.mode == "drill"

    @property
    def token(self) -> str:
        """Names the batch in AWS (job tags), so a re-claimed start can find what an earlier claim started."""
        key = self.batch_id if self.batch_id is not None else f"r{self.members[0].resource_run_id}"
        return f"{self.execution_id}/{key}"

    @classmethod
    def alone(cls, ctx: ResourceContext, detail: dict[str, Any] | None = None) -> BatchContext:
        """A resource that is not in a launch batch, as a batch of one."""
        return cls(
            batch_id=None,
            execution_id=ctx.execution_id,
            mode=ctx.mode,
            phase=ctx.phase,
            role_arn=ctx.role_arn,
            external_id=ctx.external_id,
            operation_id=ctx.operation_id,
            detail=dict(detail or {}),
            members=(ctx,),
        )


@dataclass(frozen=True)
class BatchStarted:
    """A batch's operation was started (or found running). ``members`` holds, per resource run id, what is
    known at start: IN_PROGRESS with the member's detail, or already an outcome (skipped, nothing to do)."""

    operation_id: str
    detail: dict[str, Any] = field(default_factory=dict)
    members: dict[int, Progress] = field(default_factory=dict)


class BatchAdapter(Adapter):
    """An adapter whose phases start whole launch batches (see the module docstring)."""

    batch_limit: ClassVar[int]

    @abstractmethod
    def start_batch(self, batch: BatchContext) -> BatchStarted:
        """Start the phase's operation for every member (one AWS call where the API allows)."""

    @abstractmethod
    def describe_batch(self, batch: BatchContext) -> dict[str, Any]:
        """One status look-up of the batch's operation, as JSON every member can read."""

    def describe_batches(self, batches: list[BatchContext]) -> dict[int, dict[str, Any]]:
        """The views of several batches of one account and Region, by batch id: one look-up each unless
        the adapter can look them all up at once (what one shared poller per account+Region does)."""
        return {b.batch_id: self.describe_batch(b) for b in batches if b.batch_id is not None}

    @abstractmethod
    def member_status(self, view: dict[str, Any], ctx: ResourceContext) -> Progress:
        """One member's progress, read from a view (pure)."""

    # --- a resource outside any batch is a batch of one --------------------------------------------

    def _alone(self, ctx: ResourceContext) -> Started:
        started = self.start_batch(BatchContext.alone(ctx))
        member = started.members.get(ctx.resource_run_id, Progress(Outcome.IN_PROGRESS))
        detail = {**member.detail, "batch": started.detail}
        if member.finished:
            detail["startOutcome"] = {"outcome": member.outcome.value, "error": member.error}
        return Started(started.operation_id, detail)

    instantiate = activate = cleanup = replicate = _alone  # `start_batch` reads the phase from the batch

    def status(self, ctx: ResourceContext) -> Progress:
        decided = ctx.detail.get("startOutcome")
        if decided:
            return Progress(Outcome(decided["outcome"]), error=decided.get("error"))
        view = self.describe_batch(BatchContext.alone(ctx, ctx.detail.get("batch")))
        return self.member_status(view, ctx)
