from __future__ import annotations

from typing import Annotated

from limits import parse_many
from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from shared.domain.preflight import DEFAULT_MAX_REPLICATION_LAG
from shared.domain.roles import Role
from shared.settings import CommonSettings


class ApiSettings(CommonSettings):
    api_host: str = Field(default="127.0.0.1", description="address the API listens on")
    api_port: int = Field(default=8080, description="port of the REST API")
    api_workers: int = Field(default=2, description="gunicorn worker processes")
    api_threads: int = Field(default=8, ge=1, description="threads per gunicorn worker (gthread)")
    trusted_proxies: int = Field(
        default=0,
        ge=0,
        description="TLS-terminating proxies in front of the API whose X-Forwarded-For/-Proto/-Host are believed "
        "(0: none, the headers are ignored)",
    )
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
    rate_limit: str = Field(
        default="600/minute", description="requests per principal (token or OIDC subject), e.g. 600/minute"
    )
    extra_regions: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated region names accepted besides AWS's own (e.g. for a local AWS emulator)",
    )
    oidc_issuer: str | None = Field(default=None, description="OIDC issuer URL; unset = drwave tokens only")
    oidc_audience: str | None = Field(default=None, description="the `aud` an OIDC JWT must carry")
    oidc_role_claim: str = Field(default="groups", description="the JWT claim listing the caller's groups")
    oidc_role_map: dict[str, Role] = Field(
        default_factory=dict, description='JSON {"group": "role"}: the drwave role of each group'
    )
    oidc_jwks_cache_seconds: int = Field(default=300, ge=0, description="how long the issuer's key set is reused")
    oidc_jwks_refetch_cooldown: float = Field(
        default=30, ge=0, description="seconds between refetches of the key set for an unknown key id"
    )

    @field_validator("extra_regions", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [name.strip() for name in value.split(",") if name.strip()] if isinstance(value, str) else value

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as error:
            raise ValueError(f"{value!r} is not a rate limit such as 600/minute: {error}") from None
        return value

    @model_validator(mode="after")
    def _oidc_needs_an_audience(self) -> ApiSettings:
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("DRWAVE_OIDC_AUDIENCE is required when DRWAVE_OIDC_ISSUER is set")
        return self

    max_replication_lag: float = Field(
        default=DEFAULT_MAX_REPLICATION_LAG, gt=0, description="DRS replication lag (seconds) above which a warning"
    )
    notify_timeout: float = Field(default=10.0, description="seconds a receiver may take to answer a test event")
