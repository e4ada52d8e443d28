from __future__ import annotations

from pydantic import Field

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

    @property
    def stale_seconds(self) -> float:
        return self.stale_after if self.stale_after is not None else self.visibility_timeout + 2 * self.poll_interval
