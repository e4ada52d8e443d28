"""B6: seconds between AWS finishing an operation and drwave knowing, at default settings, on the local AWS.

A drwave stack with its **default** settings (poll interval, reconciler) drills, one execution per round,
a wave of DRS source servers (one launch job), an Aurora global database secondary (a switchover) and an
ECS service (a scale-up rollout). Rounds are started one after another with a different operation
duration each (the emulator takes a job's, switchover's or rollout's duration when it starts), so the
lag is sampled across the poll schedule rather than at one phase of it. The emulator reports when each
operation completed (``GET /_localaws/completions``); the lag is the resource run's ``finished_at``
minus that. DescribeJobs calls are counted at the local AWS per account+Region, with the busiest second.

    python -m bench.b6_lag [--rounds 6] [--name NAME]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import yaml
from sqlalchemy import text

from bench.b5_drs import LOCAL_AWS_CREDENTIALS, admin_api, one_wave_plan, save
from bench.drwave import TERMINAL, percentile
from services.stack import Stack, StackConfig
from shared.db.engine import Database
from shared.embedded import free_port

DR = "us-west-2"
DURATIONS = (7.0, 11.0, 16.0, 20.0, 25.0, 31.0)  # seconds an operation takes, one per round
ENROLLED = {"dr:enabled": "true", "dr:priority": "critical"}


def _admin(endpoint: str, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.request(method, f"{endpoint}/_localaws/{path}", json=payload, timeout=60)
    response.raise_for_status()
    return response.json()


def _estate(tag: str, drs_servers: int) -> dict[str, Any]:
    return {
        "regions": {"primary": "us-east-1", "dr": DR},
        "drsSourceServers": [
            {"hostname": f"b6-{tag}-{n}", "tags": {**ENROLLED, "dr:recovery-strategy": "drs"}}
            for n in range(drs_servers)
        ],
        "auroraGlobalClusters": [
            {
                "identifier": f"b6-{tag}",
                "engine": "aurora-postgresql",
                "engineVersion": "15.4",
                "primary": {"identifier": f"b6-{tag}-use1", "tags": {}},
                "secondary": {"identifier": f"b6-{tag}-usw2", "tags": {**ENROLLED, "dr:recovery-strategy": "aurora"}},
            }
        ],
        "ecsClusters": [
            {
                "name": f"b6-{tag}",
                "region": "dr",
                "services": [{"name": "web", "tags": {**ENROLLED, "dr:desired-count": "2"}}],
            }
        ],
    }


def _load(endpoint: str, estate: dict[str, Any]) -> list[dict[str, Any]]:
    from deploy.localaws.seed import load_estate

    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
        yaml.safe_dump(estate, handle)
        handle.flush()
        loaded = load_estate(endpoint, Path(handle.name))
    kinds = {"drsSourceServers": "drs", "auroraClusters": "aurora", "ecsServices": "ecs"}
    return [
        {**r, "adapter": kinds[r["kind"]]}
        for r in loaded["resources"]
        if r["kind"] in kinds and (r["kind"] != "auroraClusters" or r.get("globalRole") == "secondary")
    ]


def run_b6(
    durations: tuple[float, ...] = DURATIONS,
    *,
    drs_servers: int = 2,
    worker_concurrency: int = 4,
    env: dict[str, str] | None = None,
    timeout: float = 900.0,
    out: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """One round per duration; returns the lags by kind and the DescribeJobs rates."""
    from deploy.localaws import LocalAws

    with LocalAws(port=0) as aws, tempfile.TemporaryDirectory(prefix="drwave-b6-") as state:
        endpoint = aws.endpoint_url
        rounds = [_load(endpoint, _estate(f"r{n}", drs_servers)) for n in range(len(durations))]
        config = StackConfig(
            state_dir=Path(state),
            api_port=free_port(),
            workers=1,
            worker_concurrency=worker_concurrency,
            env={
                "DRWAVE_LOG_LEVEL": "WARNING",
                "AWS_ENDPOINT_URL": endpoint,
                **LOCAL_AWS_CREDENTIALS,
                **(env or {}),
            },
        )
        out(f"b6: {len(durations)} rounds (operations of {', '.join(f'{d:g}' for d in durations)} s) ...")
        with Stack(config) as stack, admin_api(stack, "b6") as (db, api):
            plans = [one_wave_plan(api, "b6", "B6", [r["arn"] for r in resources]) for resources in rounds]
            _admin(endpoint, "POST", "calls/reset")
            window_start = time.time()
            executions = []
            for plan, duration in zip(plans, durations, strict=True):
                _admin(
                    endpoint,
                    "POST",
                    "config",
                    {
                        "drsJobStepSeconds": duration / 2,
                        "globalClusterStepSeconds": duration / 2,
                        "ecsRolloutSeconds": duration,
                    },
                )
                execution = api.ok("POST", "/v1/executions", json={"planId": plan, "mode": "drill"})["execution"]
                executions.append(execution["id"])
                _wait_started(db, execution["id"], timeout)
            _wait_terminal(db, executions, timeout)
            window = time.time() - window_start
            runs = _runs(db, executions)
        completions = _admin(endpoint, "GET", "completions")
        calls = _admin(endpoint, "GET", "calls")
    return _figures(rounds, runs, completions, calls, window, durations)


def _wait_started(db: Database, execution_id: str, timeout: float) -> None:
    """Until every operation of the execution has started (the emulator fixed its duration)."""
    deadline = time.monotonic() + timeout
    with db.engine.connect() as conn:
        while True:
            waiting = conn.scalar(
                text(
                    "SELECT count(*) FROM resource_runs WHERE execution_id = :id"
                    " AND (status IN ('PENDING', 'STARTING') OR operation_id IS NULL)"
                ),
                {"id": execution_id},
            )
            conn.rollback()
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_id}: {waiting} operations not started after {timeout:.0f}s")
            time.sleep(0.1)


def _wait_terminal(db: Database, execution_ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with db.engine.connect() as conn:
        while True:
            statuses = conn.scalars(text("SELECT status FROM executions WHERE id = ANY(:ids)"), {"ids": execution_ids})
            conn.rollback()
            if all(status in TERMINAL for status in statuses):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_ids} not finished after {timeout:.0f}s")
            time.sleep(0.2)


def _runs(db: Database, execution_ids: list[str]) -> list[Any]:
    with db.engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT execution_id, arn, adapter, status, extract(epoch FROM finished_at) AS finished,"
                    " operation_id FROM resource_runs WHERE execution_id = ANY(:ids)"
                ),
                {"ids": execution_ids},
            )
        )


def _figures(rounds, runs, completions, calls, window: float, durations) -> dict[str, Any]:
    done_at: dict[str, float] = {}
    by_server = {r["sourceServerID"]: r["arn"] for resources in rounds for r in resources if "sourceServerID" in r}
    for job in completions["drsJobs"]:
        for server in job["sourceServerIDs"]:
            if server in by_server:
                done_at[by_server[server]] = job["completedAt"]
    for operation in completions["auroraOperations"]:
        done_at[operation["targetArn"]] = operation["completedAt"]
    for rollout in completions["ecsRollouts"]:
        done_at[rollout["serviceArn"]] = rollout["completedAt"]
    lags: dict[str, list[float]] = {"drs": [], "aurora": [], "ecs": []}
    unmatched = []
    for run in runs:
        if run.arn in done_at and run.finished is not None:
            lags[run.adapter].append(round(float(run.finished) - done_at[run.arn], 2))
        else:
            unmatched.append({"arn": run.arn, "status": run.status})
    describe = calls.get("byAccountRegion", {}).get("drs:DescribeJobs", {})
    peak = calls.get("peakPerSecond", {}).get("drs:DescribeJobs", {})
    return {
        "operation_seconds": list(durations),
        "statuses": sorted({run.status for run in runs}),
        "lag": {
            kind: {
                "samples": len(values),
                "p50_s": round(percentile(values, 50), 2) if values else None,
                "p95_s": round(percentile(values, 95), 2) if values else None,
                "max_s": max(values) if values else None,
                "values_s": sorted(values),
            }
            for kind, values in lags.items()
        },
        "unmatched": unmatched,
        "window_seconds": round(window, 1),
        "describe_jobs": describe,
        "describe_jobs_per_second": {scope: round(count / window, 3) for scope, count in describe.items()},
        "describe_jobs_peak_second": peak,
        "describe_jobs_per_second_max": max(peak.values(), default=0),
        "calls": calls["calls"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.b6_lag", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=len(DURATIONS), help=f"at most {len(DURATIONS)}")
    parser.add_argument("--drs-servers", type=int, default=2, help="DRS source servers per round (one job)")
    parser.add_argument("--name", default=None, help="results file name (default: timestamp)")
    args = parser.parse_args()
    result = run_b6(DURATIONS[: args.rounds], drs_servers=args.drs_servers)
    print(json.dumps({k: v for k, v in result.items() if k != "calls"}, indent=2))
    print(f"\nb6: results written to {save(result, args.name, prefix='b6-')}")


if __name__ == "__main__":
    main()
