"""A drwave stack of its own for readiness, preflight and DRS depth: API, scheduler (readiness and tag
sync every 2 s) and one worker whose processes reach a local AWS of their own through boto3's standard environment.
It runs on the session's PostgreSQL and Redis servers in a database and a Redis database of its own.
Every test starts from a reset local AWS with short DRS steps."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ready_support import (
    READINESS_INTERVAL,
    STACK_REDIS_DB,
    STEP_SECONDS,
    Api,
    LocalAwsAdmin,
)
from support import DR, operator_clients, own_local_aws, own_stack_config

from services.stack import Stack
from shared.db.engine import Database
from shared.domain.roles import Role
from shared.embedded import free_port
from shared.store import tokens


@pytest.fixture(scope="session")
def ready_endpoint() -> Iterator[str]:
    yield from own_local_aws()


@pytest.fixture
def localaws(ready_endpoint: str) -> LocalAwsAdmin:
    admin = LocalAwsAdmin(ready_endpoint)
    admin.post("reset")
    admin.post("config", {"drsJobStepSeconds": STEP_SECONDS, "globalClusterStepSeconds": STEP_SECONDS})
    return admin


@pytest.fixture
def aws(ready_endpoint: str, localaws: LocalAwsAdmin) -> Callable[..., Any]:
    """``aws("drs")``: a boto3 client for checking what happened, as an operator would."""
    return operator_clients(ready_endpoint, DR)


@pytest.fixture(scope="session")
def ready_stack(servers: Stack, ready_endpoint: str, tmp_path_factory) -> Iterator[Stack]:
    stack = Stack(
        own_stack_config(
            servers,
            tmp_path_factory.mktemp("drwave-ready"),
            "ready",
            STACK_REDIS_DB,
            api=True,
            api_port=free_port(),
            workers=1,
            worker_concurrency=4,
            env={
                "DRWAVE_POLL_INTERVAL": "0.3",
                "DRWAVE_RECONCILE_INTERVAL": "1",
                "DRWAVE_VISIBILITY_TIMEOUT": "30",
                "DRWAVE_CLAIM_TIMEOUT": "3",
                "DRWAVE_STALE_AFTER": "15",
                "DRWAVE_PENDING_GRACE": "2",
                "DRWAVE_READINESS_INTERVAL": str(READINESS_INTERVAL),
                "DRWAVE_TAG_SYNC_INTERVAL": str(READINESS_INTERVAL),
                "DRWAVE_LOG_LEVEL": "INFO",
                "DRWAVE_WEBHOOK_ALLOW_PRIVATE": "true",  # the readiness webhook receiver listens on 127.0.0.1
                "DRWAVE_NOTIFY_POLL_INTERVAL": "0.3",
                "AWS_ENDPOINT_URL": ready_endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": DR,
            },
        )
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def ready_db(ready_stack: Stack) -> Iterator[Database]:
    database = Database(ready_stack.database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def api_as(ready_stack: Stack, ready_db: Database) -> Callable[[str], Api]:
    """``api_as("operator")``: the stack's API with a fresh token of that role."""

    def make(role: str) -> Api:
        with ready_db.engine.begin() as conn:
            token = tokens.create(conn, f"ready-{role}-{uuid.uuid4().hex[:6]}", Role(role))
        return Api(ready_stack.api_url, token)

    return make


@pytest.fixture(scope="session")
def api(api_as: Callable[[str], Api]) -> Api:
    return api_as("admin")
