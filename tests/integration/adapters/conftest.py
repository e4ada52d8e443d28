"""The adapters against a local AWS over HTTP, two ways.

* Adapter level: the adapters built by the registry with a session factory whose clients reach the
  session's local AWS (``adapters``), driven phase by phase (``drive``).
* Through the workers: a whole drwave stack of its own — API, scheduler, two workers — whose processes
  reach the local AWS the way production reaches AWS, through boto3's standard environment
  (``AWS_ENDPOINT_URL``, static credentials). It runs on the session's PostgreSQL and Redis servers but
  in a database and a Redis database of its own, so the session's scheduler and workers (spawned without
  the local AWS in their environment) never see its executions.

Every test starts from a reset local AWS with short DRS and Aurora steps.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from aurora_support import make_orders
from support import (
    ACCOUNT,
    DR,
    PATIENCE,
    PRIMARY,
    STATIC,
    TERMINAL,
    execution_in,
    fresh_local_aws,
    open_database,
    operator_clients,
    own_local_aws,
    own_stack_config,
)

from services.stack import Stack, StackConfig
from services.workers.adapters import registry
from services.workers.adapters.base import Adapter, Outcome, Progress, ResourceContext, Started
from shared.aws.sessions import SessionFactory
from shared.db.engine import Database
from shared.domain.roles import Role
from shared.embedded import free_port
from shared.store import tokens

STEP_SECONDS = 0.2
POLL_INTERVAL = 0.3
STACK_REDIS_DB = 7


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    yield from own_local_aws()


class LocalAwsAdmin:
    """The ``/_localaws`` admin API."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.base = f"{endpoint}/_localaws"

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = requests.post(f"{self.base}/{path}", json=payload, timeout=30)
        response.raise_for_status()
        return response.json()

    def calls(self) -> dict[str, int]:
        response = requests.get(f"{self.base}/calls", timeout=10)
        response.raise_for_status()
        return response.json()["calls"]

    def throttled(self) -> dict[str, int]:
        return requests.get(f"{self.base}/calls", timeout=10).json()["throttled"]

    def throttle(self, rate: float = 0.5, service: str = "*", operation: str = "*") -> None:
        self.post("faults", {"service": service, "operation": operation, "throttleRate": rate})

    def slow(self, seconds: float, calls: int | None = None, service: str = "*", operation: str = "*") -> None:
        """Answer the first ``calls`` matching calls (every one, without) ``seconds`` late."""
        rule = {"service": service, "operation": operation, "delaySeconds": seconds}
        self.post("faults", rule if calls is None else {**rule, "calls": calls})

    def clear_faults(self) -> None:
        requests.delete(f"{self.base}/faults", timeout=10).raise_for_status()

    def source_servers(self, *servers: dict[str, Any], region: str = DR) -> list[dict[str, Any]]:
        """``source_servers({"hostname": "db-01"}, …)`` → the created servers (sourceServerID, arn)."""
        specs = [{"originRegion": PRIMARY, **s} for s in servers]
        return self.post("drs/source-servers", {"accountId": ACCOUNT, "region": region, "servers": specs})["servers"]


@pytest.fixture
def localaws(aws_endpoint: str) -> Iterator[LocalAwsAdmin]:
    admin = LocalAwsAdmin(aws_endpoint)
    yield from fresh_local_aws(admin, STEP_SECONDS, admin.clear_faults)


@pytest.fixture
def aws(aws_endpoint: str, localaws: LocalAwsAdmin) -> Callable[..., Any]:
    """``aws("drs")``: a boto3 client for checking what happened, as an operator would (no retries)."""
    return operator_clients(aws_endpoint, DR)


@pytest.fixture
def orders(aws: Callable[..., Any]) -> dict[str, str]:
    """The global database ``orders`` (aurora_support.py): ``{"primary": arn, "secondary": arn}``."""
    return make_orders(aws)


@pytest.fixture
def adapters(aws_endpoint: str, localaws: LocalAwsAdmin) -> dict[str, Adapter]:
    """The registry's adapters, built as a worker builds them, with clients on the local AWS."""
    sessions = SessionFactory(default_region=DR, endpoint_url=aws_endpoint, base_session_kwargs=STATIC)
    return registry.build_all(sessions=sessions, settings=None)


class Driven:
    """What a phase did to one resource: how it started and how it ended."""

    def __init__(self, started: Started | None, progress: Progress, start_error: Exception | None = None):
        self.started = started
        self.progress = progress
        self.start_error = start_error

    @property
    def outcome(self) -> Outcome:
        return self.progress.outcome

    @property
    def error(self) -> str | None:
        return self.progress.error

    @property
    def detail(self) -> dict[str, Any]:
        return {**(self.started.detail if self.started else {}), **self.progress.detail}


_run_ids = iter(range(1, 1_000_000))


def drive(
    adapter: Adapter,
    arn: str,
    phase: str = "instantiate",
    mode: str = "drill",
    source: dict[str, Any] | None = None,
    timeout: float = PATIENCE,
    detail: dict[str, Any] | None = None,
    role_arn: str | None = None,
    failover: str = "auto",
    allow_data_loss: bool = False,
) -> Driven:
    """Run one phase of one resource as the recovery service would: start once, poll until finished.

    A start error is returned as a FAILED outcome (what the service records); retryable errors are
    polled again, never recorded.
    """
    from services.workers.adapters.base import Failed, RetryLater

    run_id = next(_run_ids)
    base = {
        "resource_run_id": run_id,
        "execution_id": "ex-test",
        "arn": arn,
        "mode": mode,
        "phase": phase,
        "role_arn": role_arn,
        "failover": failover,
        "allow_data_loss": allow_data_loss,
    }
    ctx = ResourceContext(**base, wave_number=1, detail=dict(detail or {}), source_detail=dict(source or {}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            started = adapter.begin(ctx)
            break
        except RetryLater:
            assert time.monotonic() < deadline, "start kept being deferred"
            time.sleep(0.05)
        except Failed as error:
            return Driven(None, Progress(Outcome.FAILED, error=str(error)), error)
    ctx = ResourceContext(
        **base,
        wave_number=1,
        operation_id=started.operation_id,
        detail=started.detail,
        source_detail=dict(source or {}),
    )
    while True:
        try:
            progress = adapter.status(ctx)
        except RetryLater:
            progress = Progress(Outcome.IN_PROGRESS)
        except Failed as error:
            progress = Progress(Outcome.FAILED, error=str(error))
        if progress.finished:
            return Driven(started, progress)
        assert time.monotonic() < deadline, f"{arn} still in progress after {timeout}s: {progress}"
        time.sleep(0.05)


@pytest.fixture
def phase() -> Callable[..., Driven]:
    return drive


# --- a stack whose workers reach the local AWS ------------------------------------------------------


def aws_stack_config(servers: Stack, aws_endpoint: str, state_dir, redis_db: int, **config: Any) -> StackConfig:
    """A stack of its own (database, Redis database) whose processes reach the local AWS."""
    return own_stack_config(
        servers,
        state_dir,
        "adapters",
        redis_db,
        api=True,
        api_port=free_port(),
        env={
            "DRWAVE_POLL_INTERVAL": str(POLL_INTERVAL),
            "DRWAVE_RECONCILE_INTERVAL": "1",
            "DRWAVE_VISIBILITY_TIMEOUT": "30",
            "DRWAVE_CLAIM_TIMEOUT": "3",
            "DRWAVE_STALE_AFTER": "15",
            "DRWAVE_PENDING_GRACE": "2",
            "DRWAVE_ERROR_BACKOFF": "0.3",
            "DRWAVE_LOG_LEVEL": "INFO",
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": DR,
        },
        **config,
    )


@pytest.fixture(scope="session")
def aws_stack(servers: Stack, aws_endpoint: str, tmp_path_factory) -> Iterator[Stack]:
    """API, scheduler and two workers whose environment points boto3 at the local AWS."""
    stack = Stack(
        aws_stack_config(
            servers,
            aws_endpoint,
            tmp_path_factory.mktemp("drwave-adapters"),
            STACK_REDIS_DB,
            workers=2,
            worker_concurrency=3,
        )
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


class Api:
    """The stack's REST API as an operator (or chat bot) calls it."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def post(self, path: str, body: dict[str, Any], expect: int | None = None) -> dict[str, Any]:
        response = self.http.post(self.base + path, json=body, timeout=60)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response.json()

    def get(self, path: str) -> dict[str, Any]:
        response = self.http.get(self.base + path, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def plan(self, waves: list[dict[str, Any]], name: str = "plan") -> str:
        """waves: [{"name", "arns": [...], …wave options}] → a plan with explicit ARN groups."""
        specs = []
        for wave in waves:
            group = self.post(
                "/v1/protection-groups",
                {
                    "name": f"{wave['name']} {uuid.uuid4().hex[:8]}",
                    "region": DR,
                    "selection": {"resourceArns": wave["arns"]},
                },
                expect=201,
            )["id"]
            specs.append({**{k: v for k, v in wave.items() if k != "arns"}, "protectionGroupIds": [group]})
        return self.post("/v1/recovery-plans", {"name": f"{name} {uuid.uuid4().hex[:8]}", "waves": specs}, expect=201)[
            "id"
        ]

    def start(self, plan_id: str, **extra: Any) -> str:
        return self.post("/v1/executions", {"planId": plan_id, **extra}, expect=202)["execution"]["id"]

    def wait(self, execution_id: str, statuses: set[str] = TERMINAL, timeout: float = PATIENCE) -> dict[str, Any]:
        return execution_in(lambda: self.get(f"/v1/executions/{execution_id}"), statuses, timeout)


@pytest.fixture(scope="session")
def stack_db(aws_stack: Stack) -> Iterator[Database]:
    yield from open_database(aws_stack.database_url)


@pytest.fixture(scope="session")
def api(aws_stack: Stack, stack_db: Database) -> Api:
    with stack_db.engine.begin() as conn:
        token = tokens.create(conn, "adapters-admin", Role.ADMIN)
    return Api(aws_stack.api_url, token)


def runs_by_arn(execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The resource runs of an execution (GET /v1/executions/{id}) by ARN."""
    return {run["arn"]: run for wave in execution["waves"] for run in wave["resources"]}


@pytest.fixture(scope="session")
def runs_of() -> Callable[[dict[str, Any]], dict[str, dict[str, Any]]]:
    return runs_by_arn


@pytest.fixture(scope="session")
def api_for() -> Callable[[Stack], Api]:
    """``api_for(stack)``: an admin client of another stack's API."""

    def make(stack: Stack) -> Api:
        database = Database(stack.database_url)
        try:
            with database.engine.begin() as conn:
                token = tokens.create(conn, f"admin-{uuid.uuid4().hex[:6]}", Role.ADMIN)
        finally:
            database.dispose()
        return Api(stack.api_url, token)

    return make


@pytest.fixture(scope="session")
def stack_config(servers: Stack, aws_endpoint: str) -> Callable[..., StackConfig]:
    """``stack_config(state_dir, redis_db, workers=2, …)``: the config of another stack on the local AWS."""
    return lambda state_dir, redis_db, **config: aws_stack_config(servers, aws_endpoint, state_dir, redis_db, **config)
