"""B5: AWS calls by operation for one wave of 300 DRS source servers, counted at the local AWS
(docs/architecture.md, "Performance targets").

A whole drwave stack (API, scheduler, workers on real PostgreSQL and Redis) drills one wave of N source
servers registered in the local AWS; the workers reach it through boto3's standard ``AWS_ENDPOINT_URL``.
The emulator counts every AWS call by operation (``GET /_localaws/calls``). Targets: ≤ 3
``StartRecovery`` for 300 servers (DRS takes ≤ 100 per job), and ``DescribeJobs`` per poll growing with
jobs, not servers (≈ 3 per poll interval for 3 jobs).

    python -m bench.b5_drs [--servers 300] [--poll-interval 1] [--step-seconds 3] [--name NAME]

``run_b5(...)`` returns the figures as a dict (``bench/__main__.py`` calls it); the standalone run
prints them and writes ``bench/results/b5-<name>.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import text

from services.demo import Api
from services.stack import Stack, StackConfig
from shared.db.engine import Database
from shared.domain.roles import Role
from shared.embedded import free_port
from shared.store import tokens

RESULTS = Path(__file__).parent / "results"

ACCOUNT, PRIMARY, DR = "123456789012", "us-east-1", "us-west-2"
LOCAL_AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": DR}


def one_wave_plan(api: Api, name: str, wave: str, arns: list[str]) -> str:
    """A new plan of one wave ``wave``: one protection group of ``arns`` in the DR Region; its id."""
    selection = {"resourceArns": arns}
    group = api.ok(
        "POST",
        "/v1/protection-groups",
        json={"name": f"{name} {uuid.uuid4().hex[:8]}", "region": DR, "selection": selection},
    )["id"]
    waves = [{"name": wave, "protectionGroupIds": [group]}]
    return api.ok("POST", "/v1/recovery-plans", json={"name": f"{name} {uuid.uuid4().hex[:8]}", "waves": waves})["id"]


@contextmanager
def admin_api(stack: Stack, name: str) -> Iterator[tuple[Database, Api]]:
    """The stack's database, and its API as a new admin token ``<name>-<random>``."""
    db = Database(stack.database_url)
    try:
        with db.engine.begin() as conn:
            token = tokens.create(conn, f"{name}-{uuid.uuid4().hex[:6]}", Role.ADMIN)
        yield db, Api(stack.api_url, token)
    finally:
        db.dispose()


TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}


def save(results: dict, name: str | None, prefix: str = "") -> Path:
    """Write ``results`` to bench/results/<prefix><name or a timestamp>.json; returns the path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{prefix}{name or datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    return path


def _admin(endpoint: str, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.request(method, f"{endpoint}/_localaws/{path}", json=payload, timeout=60)
    response.raise_for_status()
    return response.json()


def run_b5(
    servers: int = 300,
    *,
    poll_interval: float = 1.0,
    step_seconds: float = 3.0,
    workers: int = 1,
    worker_concurrency: int = 4,
    database_url: str | None = None,
    redis_url: str | None = None,
    timeout: float = 600.0,
    out: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """Drill one wave of ``servers`` DRS source servers and count the AWS calls it made, by operation.

    Starts its own local AWS and drwave stack (embedded PostgreSQL/Redis unless URLs are given; give a
    Redis database no other drwave uses). A DRS job takes ``2 * step_seconds`` in the emulator.
    """
    from deploy.localaws import LocalAws

    with LocalAws(port=0) as aws, tempfile.TemporaryDirectory(prefix="drwave-b5-") as state:
        endpoint = aws.endpoint_url
        _admin(endpoint, "POST", "config", {"drsJobStepSeconds": step_seconds})
        specs = [{"hostname": f"b5-{n:04}", "originRegion": PRIMARY} for n in range(servers)]
        created = _admin(
            endpoint, "POST", "drs/source-servers", {"accountId": ACCOUNT, "region": DR, "servers": specs}
        )["servers"]
        config = StackConfig(
            state_dir=Path(state),
            database_url=database_url,
            redis_url=redis_url,
            api_port=free_port(),
            workers=workers,
            worker_concurrency=worker_concurrency,
            env={
                "DRWAVE_POLL_INTERVAL": str(poll_interval),
                "DRWAVE_LOG_LEVEL": "WARNING",
                "DRWAVE_RECONCILE_INTERVAL": "5",
                "AWS_ENDPOINT_URL": endpoint,
                **LOCAL_AWS_CREDENTIALS,
            },
        )
        out(f"b5: {servers} DRS source servers; starting a stack ({workers} worker x {worker_concurrency}) ...")
        with Stack(config) as stack, admin_api(stack, "b5") as (db, api):
            plan = one_wave_plan(api, "b5", "DRS", [s["arn"] for s in created])
            _admin(endpoint, "POST", "calls/reset")
            execution_id = api.ok("POST", "/v1/executions", json={"planId": plan, "mode": "drill"})["execution"]["id"]
            out(f"b5: drilling {execution_id} ...")
            figures = _wait_and_measure(db, execution_id, timeout)
        calls = _admin(endpoint, "GET", "calls")
    counted = calls["calls"]
    jobs = figures.pop("jobs")
    polls = max(1.0, figures["jobSeconds"] / poll_interval)
    job_polls = max(1.0, sum(figures["jobLifetimes"]) / poll_interval)
    describe = counted.get("drs:DescribeJobs", 0)
    return {
        "servers": servers,
        "jobs": jobs,
        "pollIntervalSeconds": poll_interval,
        "drsJobSeconds": 2 * step_seconds,
        **figures,
        "calls": counted,
        "throttled": calls["throttled"],
        "startRecovery": counted.get("drs:StartRecovery", 0),
        "describeJobs": describe,
        "pollIntervals": round(polls, 1),
        "describeJobsPerPoll": round(describe / polls, 2),
        "describeJobsPerJobPerPoll": round(describe / job_polls, 2),
        "awsCallsPerServer": round(sum(counted.values()) / servers, 3),
    }


def _wait_and_measure(db: Database, execution_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with db.engine.connect() as conn:
        while True:
            status = conn.scalar(text("SELECT status FROM executions WHERE id = :id"), {"id": execution_id})
            conn.rollback()
            if status in TERMINAL:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_id} is still {status} after {timeout:.0f}s")
            time.sleep(0.1)
        seconds = conn.scalar(
            text("SELECT extract(epoch FROM finished_at - started_at) FROM executions WHERE id = :id"),
            {"id": execution_id},
        )
        succeeded = conn.scalar(
            text("SELECT count(*) FROM resource_runs WHERE execution_id = :id AND status = 'SUCCEEDED'"),
            {"id": execution_id},
        )
        batches = conn.execute(
            text(
                "SELECT count(DISTINCT b.operation_id), extract(epoch FROM max(r.finished_at) - min(b.started_at))"
                " FROM launch_batches b JOIN launch_batch_members m ON m.batch_id = b.id"
                " JOIN resource_runs r ON r.id = m.resource_run_id WHERE b.execution_id = :id"
            ),
            {"id": execution_id},
        ).one()
        sizes = list(
            conn.scalars(
                text(
                    "SELECT count(*) FROM launch_batch_members m JOIN launch_batches b ON b.id = m.batch_id"
                    " WHERE b.execution_id = :id GROUP BY b.id ORDER BY b.id"
                ),
                {"id": execution_id},
            )
        )
        lifetimes = list(
            conn.scalars(
                text(
                    "SELECT extract(epoch FROM max(r.finished_at) - b.started_at) FROM launch_batches b"
                    " JOIN launch_batch_members m ON m.batch_id = b.id JOIN resource_runs r ON r.id = m.resource_run_id"
                    " WHERE b.execution_id = :id GROUP BY b.id, b.started_at"
                ),
                {"id": execution_id},
            )
        )
    return {
        "execution": execution_id,
        "status": status,
        "jobLifetimes": [round(float(s or 0), 2) for s in lifetimes],
        "succeeded": succeeded,
        "seconds": float(seconds or 0),
        "jobs": batches[0],
        "batchSizes": sizes,
        "jobSeconds": float(batches[1] or 0),
    }


def report(result: dict[str, Any]) -> str:
    """The figures as a Markdown table, calls by operation first."""
    lines = [
        f"B5: one wave of {result['servers']} DRS source servers -> {result['jobs']} jobs "
        f"(batches {result['batchSizes']}), {result['status']} ({result['succeeded']} succeeded) in "
        f"{result['seconds']:.1f} s; poll interval {result['pollIntervalSeconds']} s, DRS job "
        f"{result['drsJobSeconds']} s",
        "",
        "| AWS call | count |",
        "|---|---|",
    ]
    lines += [f"| {operation} | {count} |" for operation, count in sorted(result["calls"].items())]
    lines += [
        "",
        f"StartRecovery: {result['startRecovery']} (target <= {math.ceil(result['servers'] / 100)}); "
        f"DescribeJobs: {result['describeJobs']} over ~{result['pollIntervals']} poll intervals = "
        f"{result['describeJobsPerPoll']} per poll for {result['jobs']} jobs, "
        f"{result['describeJobsPerJobPerPoll']} per job per poll; {result['awsCallsPerServer']} AWS calls per server",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.b5_drs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", type=int, default=300)
    parser.add_argument("--poll-interval", type=float, default=1.0, help="DRWAVE_POLL_INTERVAL (default 1 s)")
    parser.add_argument("--step-seconds", type=float, default=3.0, help="DRS job step in the emulator (default 3 s)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--name", default=None, help="results file name (default: timestamp)")
    args = parser.parse_args()
    result = run_b5(
        args.servers,
        poll_interval=args.poll_interval,
        step_seconds=args.step_seconds,
        workers=args.workers,
        worker_concurrency=args.worker_concurrency,
    )
    print()
    print(report(result))
    print(f"\nb5: results written to {save(result, args.name, prefix='b5-')}")


if __name__ == "__main__":
    main()
