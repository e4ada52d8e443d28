from __future__ import annotations

from pydantic import Field

from shared.settings import CommonSettings


class ApiSettings(CommonSettings):
    api_host: str = Field(default="127.0.0.1", description="address the API listens on")
    api_port: int = Field(default=8080, description="port of the REST API")
    api_workers: int = Field(default=2, description="gunicorn worker processes")
    max_body_bytes: int = Field(default=1_048_576, description="larger request bodies get 413")
