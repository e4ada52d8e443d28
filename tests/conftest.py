"""Session fixtures: real PostgreSQL and Redis (embedded on free ports, or DRWAVE_TEST_DATABASE_URL /
DRWAVE_TEST_REDIS_URL), the local AWS emulator, real scheduler and worker processes — each started once
per test session. Product code reaches the local AWS only through boto3's standard AWS_ENDPOINT_URL,
exported both to this process (the in-process API) and to the spawned scheduler and workers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from support import REPORT_BUCKET, open_database

from services.stack import Stack, StackConfig
from shared.db.engine import Database
from shared.domain.roles import Role
from shared.embedded import free_port
from shared.store import tokens

# Short intervals so faults are repaired within seconds; visibility timeout stays far above any task.
FAST = {
    "DRWAVE_POLL_INTERVAL": "0.5",
    "DRWAVE_RECONCILE_INTERVAL": "1",
    "DRWAVE_VISIBILITY_TIMEOUT": "8",
    "DRWAVE_CLAIM_TIMEOUT": "3",
    "DRWAVE_STALE_AFTER": "10",
    "DRWAVE_PENDING_GRACE": "2",
    "DRWAVE_LOG_LEVEL": "INFO",
    "DRWAVE_RATE_LIMIT": "100000/minute",  # see TEST_RATE_LIMIT
    # the tests' webhook receivers listen on 127.0.0.1; fast retries so a failed first attempt is retried soon
    "DRWAVE_WEBHOOK_ALLOW_PRIVATE": "true",
    "DRWAVE_NOTIFY_POLL_INTERVAL": "0.3",
    "DRWAVE_NOTIFY_BACKOFF_BASE": "0.5",
    "DRWAVE_NOTIFY_BACKOFF_CAP": "2",
    "DRWAVE_REPORT_BUCKET": REPORT_BUCKET,
}
# The suite polls executions many times a second with one admin token and fires bursts of concurrent
# requests: its API runs with a per-principal limit far above production's 600/minute.
# tests/integration/security/test_rate_limits.py checks the limit itself on apps with a low one.
TEST_RATE_LIMIT = FAST["DRWAVE_RATE_LIMIT"]


AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def local_aws() -> Iterator[str]:
    """The endpoint URL of the session's local AWS, exported through boto3's standard variables."""
    from deploy.localaws import LocalAws

    aws = LocalAws(port=0).start()
    names = [*AWS_ENV, "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_PROFILE"]
    saved = {name: os.environ.get(name) for name in names}
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update({**AWS_ENV, "AWS_ENDPOINT_URL": aws.endpoint_url})
    try:
        yield aws.endpoint_url
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        aws.stop()


@pytest.fixture
def report_bucket(local_aws: str) -> str:
    """DRWAVE_REPORT_BUCKET, made in the local AWS for this test (other modules reset the local AWS)."""
    import boto3

    boto3.client("s3", region_name=AWS_ENV["AWS_DEFAULT_REGION"]).create_bucket(Bucket=REPORT_BUCKET)
    return REPORT_BUCKET


@pytest.fixture(scope="session")
def servers(tmp_path_factory, local_aws: str) -> Iterator[Stack]:
    """PostgreSQL + Redis with the schema migrated; no drwave processes yet."""
    stack = Stack(
        StackConfig(
            state_dir=tmp_path_factory.mktemp("drwave"),
            database_url=os.environ.get("DRWAVE_TEST_DATABASE_URL"),
            redis_url=os.environ.get("DRWAVE_TEST_REDIS_URL"),
            api=False,
            workers=2,
            worker_concurrency=3,
            env=FAST,
            api_port=free_port(),
        )
    )
    stack.start_servers()
    from shared.db.migrate import upgrade

    upgrade(stack.database_url)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def stack(servers: Stack) -> Stack:
    """The scheduler, two worker processes (two, so one can be killed mid-wave) and the notifier."""
    if not servers.processes:
        servers.start_scheduler()
        for index in range(servers.config.workers):
            servers.start_worker(index)
        servers.start_notifier()
        servers.wait_for_workers(servers.celery_nodes)
    return servers


@pytest.fixture(scope="session")
def db(servers: Stack) -> Iterator[Database]:
    yield from open_database(servers.database_url)


@pytest.fixture(scope="session")
def make_app(stack: Stack) -> Callable[..., object]:
    """make_app(**settings) -> an API app on the session's servers, with the test rate limit unless given."""
    from services.api.app import create_app
    from services.api.settings import ApiSettings

    def make(**overrides):
        settings = {
            "database_url": stack.database_url,
            "redis_url": stack.redis_url,
            "rate_limit": TEST_RATE_LIMIT,
            **overrides,
        }
        return create_app(ApiSettings(**settings))

    return make


@pytest.fixture(scope="session")
def app(make_app):
    return make_app()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def token_for(db: Database) -> Callable[[str], dict[str, str]]:
    """token_for("operator") -> Authorization headers of a fresh token with that role."""

    def make(role: str) -> dict[str, str]:
        with db.engine.begin() as conn:
            token = tokens.create(conn, f"test-{role}-{uuid.uuid4().hex[:6]}", Role(role))
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture(scope="session")
def admin(token_for) -> dict[str, str]:
    return token_for("admin")
