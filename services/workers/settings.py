from __future__ import annotations

from pydantic import Field

from shared.settings import CommonSettings


class WorkerSettings(CommonSettings):
    worker_concurrency: int = Field(default=4, description="worker processes per worker")
    worker_queues: str | None = Field(default=None, description="comma-separated adapters; default all")
    worker_name: str = Field(default="workers", description="Celery node name prefix")
    claim_timeout: float = Field(
        default=60.0, description="seconds before a STARTING resource whose worker died may be re-claimed"
    )
    error_backoff: float = Field(default=2.0, description="seconds before retrying after a retryable error")
