from __future__ import annotations

from pydantic import Field

from shared.settings import CommonSettings


class NotifierSettings(CommonSettings):
    notifier_concurrency: int = Field(default=4, description="notifier worker processes (parallel deliveries)")
    notify_poll_interval: float = Field(default=1.0, description="seconds between passes over the outbox")
    notify_retry_hours: float = Field(default=24.0, description="hours a delivery is retried before it is failed")
    notify_backoff_base: float = Field(default=2.0, description="seconds before the first retry (then doubling)")
    notify_backoff_cap: float = Field(default=600.0, description="longest wait between two attempts, seconds")
    notify_timeout: float = Field(default=10.0, description="seconds a receiver may take to answer one attempt")
    public_api_url: str = Field(
        default="http://127.0.0.1:8080", description="the API address notifications tell approvers to call"
    )
    report_bucket: str | None = Field(
        default=None, description="S3 bucket: every finished execution's report goes to reports/<executionId>/"
    )
    aws_region: str | None = Field(default=None, description="region of SNS/EventBridge/S3 clients without an ARN")
    aws_max_attempts: int = Field(default=3, ge=1, le=10, description="attempts per AWS call")
