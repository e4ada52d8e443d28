"""Settings every service shares. Each service extends this class with its own fields; the
instance is built once in the service's composition root and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DRWAVE_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset = the embedded PostgreSQL under state_dir"
    )
    redis_url: str | None = Field(default=None, description="Redis URL; unset = the embedded Redis")
    state_dir: Path = Field(default=Path(".drwave"), description="where embedded servers keep their data")
    visibility_timeout: int = Field(
        default=3600, description="seconds before Redis redelivers an unacknowledged task; > longest task"
    )
    poll_interval: float = Field(default=15.0, description="seconds between AWS status polls")
    prefetch_multiplier: int = Field(
        default=4, description="messages a worker process reserves ahead (tasks are short polls, so > 1 pays)"
    )
    task_events: bool = Field(
        default=False, description="emit Celery task events (Flower turns them on at runtime when it runs)"
    )
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="text: one readable line per record; json: one JSON object per line"
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="allow webhook/slack targets on loopback, link-local or private addresses (tests, make run)",
    )

    @property
    def db_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("DRWAVE_DATABASE_URL is not set (run through `drwave` to use embedded servers)")
        return self.database_url

    @property
    def broker_url(self) -> str:
        if not self.redis_url:
            raise RuntimeError("DRWAVE_REDIS_URL is not set (run through `drwave` to use embedded servers)")
        return self.redis_url
