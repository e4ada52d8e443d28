from __future__ import annotations

from pydantic import Field

from shared.settings import CommonSettings


class WorkerSettings(CommonSettings):
    worker_concurrency: int = Field(default=4, description="worker processes per worker")
    worker_queues: str | None = Field(default=None, description="comma-separated adapters; default all")
    worker_name: str = Field(default="workers", description="Celery node name prefix")
    claim_timeout: float = Field(
        default=60.0, description="seconds before a STARTING resource (or launch batch) whose worker died is re-claimed"
    )
    error_backoff: float = Field(default=2.0, description="seconds before retrying after a retryable error")
    poll_tight: float = Field(
        default=1.0, description="seconds between status look-ups near an operation's expected end (learned)"
    )
    status_scope_gap: float = Field(
        default=1.0, description="least seconds between two launch-batch status look-ups in one account and Region"
    )
    aws_region: str | None = Field(
        default=None,
        description="region of STS and of region-less clients; unset = boto3's (AWS_DEFAULT_REGION) or us-east-1. "
        "Adapters act in the region of each resource's ARN",
    )
    aws_max_attempts: int = Field(
        default=5, ge=1, le=20, description="attempts per AWS call (botocore standard retries) before a task backs off"
    )
    account_cache_seconds: float = Field(
        default=30.0, description="seconds a worker remembers a target account's role (POST /v1/target-accounts)"
    )
