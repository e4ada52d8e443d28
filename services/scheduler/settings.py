from __future__ import annotations

from pydantic import Field

from shared.domain.preflight import DEFAULT_MAX_REPLICATION_LAG
from shared.settings import CommonSettings


class SchedulerSettings(CommonSettings):
    scheduler_concurrency: int = Field(default=2, description="scheduler worker processes")
    reconcile_interval: float = Field(default=10.0, description="seconds between reconciler passes")
    pending_grace: float = Field(default=30.0, description="seconds before a PENDING execution is re-driven")
    stale_after: float | None = Field(
        default=None,
        description="seconds of silence before a resource task is re-published "
        "(default: visibility_timeout + 2 x poll_interval)",
    )

    readiness_interval: float = Field(default=1800.0, gt=0, description="seconds between readiness passes")
    tag_sync_interval: float | None = Field(
        default=None, gt=0, description="seconds between EC2 -> DRS tag syncs; unset = no periodic sync"
    )
    max_replication_lag: float = Field(
        default=DEFAULT_MAX_REPLICATION_LAG, gt=0, description="DRS replication lag (seconds) above which a warning"
    )
    aws_region: str | None = Field(default=None, description="region of STS and region-less clients")
    aws_max_attempts: int = Field(default=5, ge=1, le=10, description="attempts per AWS call")

    @property
    def stale_seconds(self) -> float:
        return self.stale_after if self.stale_after is not None else self.visibility_timeout + 2 * self.poll_interval
