from __future__ import annotations

from pydantic import Field

from shared.settings import CommonSettings


class ApiSettings(CommonSettings):
    api_host: str = Field(default="127.0.0.1", description="address the API listens on")
    api_port: int = Field(default=8080, description="port of the REST API")
    api_workers: int = Field(default=2, description="gunicorn worker processes")
    api_threads: int = Field(default=8, ge=1, description="threads per gunicorn worker (gthread)")
    console_session_hours: float = Field(default=12, gt=0, description="web console sessions expire after this")
    max_body_bytes: int = Field(default=1_048_576, description="larger request bodies get 413")
    aws_region: str | None = Field(
        default=None,
        description="region of STS and of region-less AWS clients; unset = boto3's (AWS_DEFAULT_REGION) or us-east-1",
    )
    metrics_token_required: bool = Field(
        default=True, description="false: /metrics answers without a bearer token (for a scraper inside the network)"
    )
    aws_max_attempts: int = Field(default=3, ge=1, le=10, description="attempts per AWS call made by the API")
