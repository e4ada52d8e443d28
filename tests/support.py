"""Helpers for tests that drive drwave through its REST API."""

from __future__ import annotations

import io
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}
# the local AWS: its default account, the regions of the tests' estates, credentials it accepts
ACCOUNT = "123456789012"
PRIMARY, DR = "us-east-1", "us-west-2"
STATIC = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# How long any wait in a test may take before it is called a hang. Generous on purpose: a cold start on a
# loaded 2-core machine is slow, and a test must not fail for being slow (speed lives in `make bench`).
PATIENCE = 600.0
REPORT_BUCKET = "drwave-test-reports"  # DRWAVE_REPORT_BUCKET of the test stack; the report_bucket fixture makes it


def sim(name: str, ms: int = 0, fail: bool = False, region: str = "us-west-2", *, fail_first: int = 0) -> str:
    """A simulated ARN: `ms` long; `fail` always fails, `fail_first` fails its first N attempts."""
    arn = f"arn:drwave:simulated:{region}:123456789012:resource/{name}-{uuid.uuid4().hex[:8]}"
    return arn + (f"/{ms}ms" if ms else "") + ("/fail" if fail else "") + (f"/fail{fail_first}" if fail_first else "")


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:8]}"


def create_plan(client, headers: dict, waves: list[dict[str, Any]], **plan_fields: Any) -> str:
    """waves: [{"name", "arns": [...], optional pauseBeforeWave/onFailure/timeoutSeconds}] -> plan id;
    plan_fields: more fields of the plan (e.g. approvals)."""
    specs = []
    for wave in waves:
        group_ids = []
        if wave["arns"]:
            body = {"name": unique(wave["name"]), "region": "us-west-2", "selection": {"resourceArns": wave["arns"]}}
            response = client.post("/v1/protection-groups", json=body, headers=headers)
            assert response.status_code == 201, response.get_json()
            group_ids.append(response.get_json()["id"])
        spec = {k: v for k, v in wave.items() if k != "arns"}
        specs.append({**spec, "protectionGroupIds": group_ids})
    body = {"name": unique("plan"), "waves": specs, **plan_fields}
    response = client.post("/v1/recovery-plans", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def start(client, headers: dict, plan_id: str, **extra) -> str:
    response = client.post("/v1/executions", json={"planId": plan_id, **extra}, headers=headers)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["execution"]["id"]


def paused_execution(client, headers: dict, waves: list[dict[str, Any]]) -> str:
    """The id of an execution of a new plan of ``waves``, started and PAUSED (at a gate or a failure)."""
    execution_id = start(client, headers, create_plan(client, headers, waves))
    wait_for(client, headers, execution_id, {"PAUSED"})
    return execution_id


def wait_for(client, headers: dict, execution_id: str, statuses: set[str], timeout: float = PATIENCE) -> dict:
    """The execution once its status is one of ``statuses`` (through the in-process API)."""
    fetch = lambda: client.get(f"/v1/executions/{execution_id}", headers=headers).get_json()  # noqa: E731
    return execution_in(fetch, statuses, timeout, every=0.1)


def execution_in(fetch: Callable[[], dict], statuses: set[str], timeout: float, every: float = 0.2) -> dict:
    """Poll ``fetch`` (an execution's JSON) until its status is one of ``statuses``; return it."""
    deadline = time.monotonic() + timeout
    while True:
        execution = fetch()
        if execution["status"] in statuses:
            return execution
        if time.monotonic() > deadline:
            raise AssertionError(f"{execution['id']} is {execution['status']}, not {statuses}, after {timeout}s")
        time.sleep(every)


def wait_until(check: Callable[[], T], what: str = "condition", timeout: float = PATIENCE) -> T:
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached after {timeout}s")
        time.sleep(0.2)


def own_local_aws() -> Iterator[str]:
    """A local AWS of its own on a free port while the generator runs: its endpoint URL."""
    from deploy.localaws import LocalAws

    aws = LocalAws(port=0).start()
    try:
        yield aws.endpoint_url
    finally:
        aws.stop()


def own_redis_db(redis_url: str, number: int) -> str:
    """The URL of Redis database ``number`` on the server of ``redis_url`` (a stack's broker of its own)."""
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url.rstrip("/")
    return f"{base}/{number}"


def own_stack_config(servers: Any, state_dir: Any, name: str, redis_db: int, **config: Any) -> Any:
    """A StackConfig of a stack of its own beside the session's ``servers``: a new database
    ``drwave_<name>_<random>`` and Redis database ``redis_db`` (so its tasks never reach another stack)."""
    from services.stack import StackConfig

    database_url = own_database(servers.database_url, f"drwave_{name}")
    redis_url = own_redis_db(servers.redis_url, redis_db)
    return StackConfig(state_dir=state_dir, database_url=database_url, redis_url=redis_url, **config)


def own_database(database_url: str, prefix: str) -> str:
    """The URL of a new, empty database ``<prefix>_<random>`` on the server of ``database_url``."""
    import psycopg
    from sqlalchemy import make_url

    url = make_url(database_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.set(database=name).render_as_string(hide_password=False)


def operator_clients(endpoint: str, default_region: str) -> Callable[..., Any]:
    """``aws("drs")``: boto3 clients of the local AWS at ``endpoint`` for checking what happened, as an
    operator would (one attempt a call: a test sees the first answer, not a retried one)."""
    import boto3
    from botocore.config import Config

    return lambda service, region=default_region: boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        config=Config(retries={"total_max_attempts": 1}),
        **STATIC,
    )


def lambda_zip(handler_returns: str) -> bytes:
    """A Lambda deployment package: ``index.handler`` returning ``handler_returns`` (Python source)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", f"def handler(event, context):\n    return {handler_returns}\n")
    return buffer.getvalue()


def open_database(url: str) -> Iterator[Any]:
    """A session fixture's database: one engine for the whole session, disposed at its end."""
    from shared.db.engine import Database

    database = Database(url)
    yield database
    database.dispose()


def fresh_local_aws(admin: Any, step_seconds: float, clear_faults: Callable[[], Any]) -> Iterator[Any]:
    """The local AWS emptied and set to step its long operations every ``step_seconds``; faults cleared after."""
    admin.post("reset")
    admin.post(
        "config",
        {"drsJobStepSeconds": step_seconds, "globalClusterStepSeconds": step_seconds, "ecsRolloutSeconds": 0},
    )
    yield admin
    clear_faults()


def all_at_once(count: int, action: Callable[[], T]) -> list[T]:
    """Run ``action`` in ``count`` threads released together by a barrier; what each returned."""
    barrier, results = threading.Barrier(count), []

    def run() -> None:
        barrier.wait()
        results.append(action())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def insert_execution(
    conn,
    plan,
    arns_by_wave: dict[int, list[str]],
    adapter: str = "simulated",
    timeout: int = 600,
    *,
    phase: str = "instantiate",
    source: str | None = None,
):
    """An execution written to Postgres as the API writes it (waves + resource runs) — but never published;
    a later ``phase`` follows the execution ``source``."""
    from shared.store import executions, resources, waves

    row = executions.create(
        conn,
        plan_id=plan.id,
        plan_name=plan.name,
        mode="drill",
        phase=phase,
        created_by="test",
        reason=None,
        source_execution_id=source,
    )
    if arns_by_wave:
        waves.insert_many(
            conn,
            row.id,
            [
                {
                    "number": n,
                    "name": f"w{n}",
                    "pause_before": False,
                    "on_failure": "continue",
                    "timeout_seconds": timeout,
                }
                for n in arns_by_wave
            ],
        )
    resources.insert_many(
        conn,
        row.id,
        [{"wave_number": n, "arn": arn, "adapter": adapter} for n, arns in arns_by_wave.items() for arn in arns],
    )
    return row
