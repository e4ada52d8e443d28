"""One localaws endpoint for the whole session; every test starts from a reset endpoint.

Tests talk to it only as a user would: boto3 over HTTP, and ``requests`` for the admin API.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from support import PATIENCE, fresh_local_aws

from deploy.localaws import LocalAws

STEP_SECONDS = 0.1
DEFAULT_ACCOUNT = "123456789012"
PRIMARY, DR = "us-east-1", "us-west-2"


@pytest.fixture(scope="session")
def localaws() -> Iterator[LocalAws]:
    aws = LocalAws(port=0).start()
    try:
        yield aws
    finally:
        aws.stop()


@pytest.fixture(scope="session")
def endpoint(localaws: LocalAws) -> str:
    return localaws.endpoint_url


class Admin:
    """The ``/_localaws`` admin API."""

    def __init__(self, endpoint: str) -> None:
        self.base = f"{endpoint}/_localaws"

    def get(self, path: str) -> Any:
        response = requests.get(f"{self.base}/{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = requests.post(f"{self.base}/{path}", json=payload, timeout=30)
        response.raise_for_status()
        return response.json()

    def delete(self, path: str) -> Any:
        response = requests.delete(f"{self.base}/{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def source_servers(
        self, region: str = DR, account: str = DEFAULT_ACCOUNT, **specs: Any
    ) -> list[dict[str, Any]]:
        """Create source servers: ``admin.source_servers(servers=[{"hostname": "db-01"}])``."""
        return self.post("drs/source-servers", {"accountId": account, "region": region, **specs})["servers"]

    def calls(self) -> dict[str, int]:
        return self.get("calls")["calls"]


@pytest.fixture
def admin(endpoint: str) -> Iterator[Admin]:
    admin = Admin(endpoint)
    yield from fresh_local_aws(admin, STEP_SECONDS, lambda: admin.delete("faults"))


@pytest.fixture
def aws_client(endpoint: str, admin: Admin) -> Callable[..., Any]:
    """``aws_client("drs", region=DR)``: a boto3 client on the endpoint, static credentials, no retries."""

    def make(service: str, region: str = DR, credentials: dict[str, str] | None = None) -> Any:
        creds = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=region,
            config=Config(retries={"total_max_attempts": 1}),  # no retries: max_attempts=1 still retries once
            **creds,
        )

    return make


def _wait_for(check: Callable[[], Any], timeout: float = PATIENCE, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail with its last value otherwise."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = check()
    assert value, f"condition not met within {timeout}s (last value {value!r})"
    return value


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """``wait_for(check)``: poll until ``check()`` is truthy and return its value."""
    return _wait_for
