"""The one adapter interface (DESIGN §6): a phase method starts an operation, `status` polls it.

Adapters never talk to Postgres or Celery; the recovery service stores what they return.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar


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


@dataclass(frozen=True)
class Progress:
    outcome: Outcome
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    retry_after: float | None = None  # seconds until the next useful poll

    @property
    def finished(self) -> bool:
        return self.outcome is not Outcome.IN_PROGRESS


class Adapter(ABC):
    name: ClassVar[str]

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
