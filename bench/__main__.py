"""`make bench`: measure the wave engine on real PostgreSQL, Redis, API and worker processes with the
simulated adapter. Prints a table and writes bench/results/<name>.json. Targets: docs/architecture.md,
"Performance targets".

    B1  wave-to-wave overhead, 10 waves x 10 zero-duration resources: last finish of wave N ->
        first start of wave N+1 (p50/p95 ms, from Postgres timestamps)
    B2  resume call -> first resource of the next wave started (p50/p95 ms)
    B3  one wave of 1,000 resources, start request -> execution finished (s)
    B5  AWS calls by operation for a 300-server DRS wave, counted at the local AWS (bench/b5_drs.py)
    B1 with a slow subscriber, B6 report render of a 1,000-resource execution (bench/oncall.py)
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bench import oncall
from services.demo import Api
from services.stack import Stack, StackConfig
from shared.db.engine import Database
from shared.domain.roles import Role
from shared.embedded import free_port
from shared.store import tokens

SIM = "arn:drwave:simulated:us-west-2:123456789012:resource"
TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


class Bench:
    def __init__(self, stack: Stack, api: Api):
        self.stack = stack
        self.api = api
        self.db = Database(stack.database_url)

    def plan(self, waves: list[list[str]], pause_before: bool = False) -> str:
        specs = []
        for number, arns in enumerate(waves, start=1):
            group = self.api.ok(
                "POST",
                "/v1/protection-groups",
                json={
                    "name": f"bench {uuid.uuid4().hex[:10]}",
                    "region": "us-west-2",
                    "selection": {"resourceArns": arns},
                },
            )["id"]
            specs.append(
                {
                    "name": f"wave {number}",
                    "protectionGroupIds": [group],
                    "pauseBeforeWave": pause_before and number > 1,
                }
            )
        return self.api.ok(
            "POST", "/v1/recovery-plans", json={"name": f"bench {uuid.uuid4().hex[:10]}", "waves": specs}
        )["id"]

    def run(self, plan_id: str) -> str:
        return self.api.ok("POST", "/v1/executions", json={"planId": plan_id})["execution"]["id"]

    def wait(self, execution_id: str, statuses: set[str], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.db.engine.connect() as conn:
                status = conn.scalar(text("SELECT status FROM executions WHERE id = :id"), {"id": execution_id})
            if status in statuses:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_id} is still {status}")
            time.sleep(0.02)

    def wave_bounds(self, execution_id: str) -> dict[int, tuple[datetime, datetime]]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT wave_number, min(started_at), max(finished_at) FROM resource_runs"
                    " WHERE execution_id = :id GROUP BY wave_number ORDER BY wave_number"
                ),
                {"id": execution_id},
            ).all()
        return {row[0]: (row[1], row[2]) for row in rows}

    def b1_wave_to_wave(self, runs: int) -> dict:
        gaps: list[float] = []
        for _ in range(runs):
            waves = [[f"{SIM}/b1-{uuid.uuid4().hex[:10]}" for _ in range(10)] for _ in range(10)]
            execution_id = self.run(self.plan(waves))
            self.wait(execution_id, TERMINAL)
            bounds = self.wave_bounds(execution_id)
            gaps += [(bounds[n + 1][0] - bounds[n][1]).total_seconds() * 1000 for n in range(1, 10)]
        return {
            "samples": len(gaps),
            "p50_ms": percentile(gaps, 50),
            "p95_ms": percentile(gaps, 95),
            "max_ms": max(gaps),
            "mean_ms": statistics.fmean(gaps),
        }

    def b2_resume(self, samples: int) -> dict:
        waves = [[f"{SIM}/b2-{uuid.uuid4().hex[:10]}" for _ in range(5)] for _ in range(samples + 1)]
        execution_id = self.run(self.plan(waves, pause_before=True))
        latencies: list[float] = []
        for number in range(2, samples + 2):
            self.wait(execution_id, {"PAUSED"})
            sent = datetime.now(UTC)
            self.api.ok("POST", f"/v1/executions/{execution_id}/resume")
            first_start = None
            while first_start is None:
                first_start = self.wave_bounds(execution_id).get(number, (None, None))[0]
                if first_start is None:
                    time.sleep(0.005)
            latencies.append((first_start - sent).total_seconds() * 1000)
        self.wait(execution_id, TERMINAL)
        return {
            "samples": len(latencies),
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "max_ms": max(latencies),
        }

    def b3_one_big_wave(self, size: int) -> dict:
        plan_id = self.plan([[f"{SIM}/b3-{uuid.uuid4().hex[:12]}" for _ in range(size)]])
        execution_id = self.run(plan_id)
        self.wait(execution_id, TERMINAL, timeout=1800)
        with self.db.engine.connect() as conn:
            row = conn.execute(
                text("SELECT status, extract(epoch FROM finished_at - created_at) FROM executions WHERE id = :id"),
                {"id": execution_id},
            ).one()
            succeeded = conn.scalar(
                text("SELECT count(*) FROM resource_runs WHERE execution_id = :id AND status = 'SUCCEEDED'"),
                {"id": execution_id},
            )
        return {
            "resources": size,
            "status": row[0],
            "succeeded": succeeded,
            "seconds": float(row[1]),
            "execution_id": execution_id,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--b1-runs", type=int, default=5, help="10x10 executions for B1 (default 5)")
    parser.add_argument("--b2-samples", type=int, default=20, help="resumes measured for B2 (default 20)")
    parser.add_argument("--b3-size", type=int, action="append", help="wave sizes for B3 (default 1000)")
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--no-b5", action="store_true", help="skip B5 (the DRS wave on the local AWS)")
    parser.add_argument("--name", default=None, help="results file name (default: timestamp)")
    args = parser.parse_args()
    sizes = args.b3_size or [1000]

    with tempfile.TemporaryDirectory(prefix="drwave-bench-") as state:
        config = StackConfig(
            state_dir=Path(state),
            api_port=free_port(),
            workers=1,
            worker_concurrency=args.worker_concurrency,
            env={
                "DRWAVE_POLL_INTERVAL": "1",
                "DRWAVE_LOG_LEVEL": "WARNING",
                "DRWAVE_RECONCILE_INTERVAL": "5",
                **oncall.STACK_ENV,
            },
        )
        print(
            f"bench: starting PostgreSQL, Redis, API, scheduler and a worker (concurrency "
            f"{args.worker_concurrency}) ...",
            flush=True,
        )
        with Stack(config) as stack:
            db = Database(stack.database_url)
            with db.engine.begin() as conn:
                token = tokens.create(conn, "bench", Role.ADMIN)
            bench = Bench(stack, Api(stack.api_url, token))
            bench.b1_wave_to_wave(1)  # warm-up: imports, connection pools, prefork children
            results: dict = {"machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}}
            print("bench: B1 wave-to-wave overhead ...", flush=True)
            results["B1_wave_to_wave"] = bench.b1_wave_to_wave(args.b1_runs)
            print(f"bench: B1 with a subscriber that sleeps {oncall.SLOW_SECONDS:.0f} s per request ...", flush=True)
            results["B1_slow_subscriber"] = oncall.b1_with_slow_subscriber(bench, args.b1_runs)
            print("bench: B2 resume -> first task ...", flush=True)
            results["B2_resume_to_first_task"] = bench.b2_resume(args.b2_samples)
            results["B3_one_wave"] = []
            for size in sizes:
                print(f"bench: B3 one wave of {size} resources ...", flush=True)
                results["B3_one_wave"].append(bench.b3_one_big_wave(size))
            b3 = results["B3_one_wave"][0]
            print(f"bench: B6 report of the {b3['resources']}-resource execution ...", flush=True)
            results["B6_report_render"] = oncall.b6_report_render(bench, b3["execution_id"], b3["resources"])

    if not args.no_b5:
        from bench.b5_drs import report, run_b5

        print("bench: B5 a 300-server DRS wave on the local AWS ...", flush=True)
        results["B5_drs_calls"] = run_b5(300, worker_concurrency=args.worker_concurrency, out=lambda _: None)
    b1, b2 = results["B1_wave_to_wave"], results["B2_resume_to_first_task"]
    print("\n| benchmark | result | target (docs/architecture.md) |\n|---|---|---|")
    print(
        f"| B1 wave-to-wave overhead ({b1['samples']} gaps) | p50 {b1['p50_ms']:.1f} ms, p95 {b1['p95_ms']:.1f} ms"
        f" | p50 <= 12 ms, p95 <= 30 ms |"
    )
    print(
        f"| B2 resume -> first task ({b2['samples']} resumes) | p50 {b2['p50_ms']:.1f} ms, p95 {b2['p95_ms']:.1f} ms"
        f" | p50 <= 30 ms |"
    )
    slow = results["B1_slow_subscriber"]
    print(
        f"| B1 with a subscriber sleeping {slow['receiver_sleep_s']:.0f} s/request ({slow['samples']} gaps) "
        f"| p50 {slow['p50_ms']:.1f} ms, p95 {slow['p95_ms']:.1f} ms | as B1 |"
    )
    for b3 in results["B3_one_wave"]:
        target = "<= 3 s" if b3["resources"] <= 1000 else "<= 30 s" if b3["resources"] <= 10000 else "-"
        print(
            f"| B3 one wave of {b3['resources']} resources | {b3['seconds']:.2f} s ({b3['status']}, "
            f"{b3['succeeded']} succeeded) | {target} |"
        )
    b6 = results["B6_report_render"]
    print(
        f"| B6 HTML report of {b6['resources']} resources | {b6['worst_s']:.2f} s ({b6['html_bytes']} bytes) | < 2 s |"
    )
    if "B5_drs_calls" in results:
        print("\n" + report(results["B5_drs_calls"]))
    from bench.b5_drs import save

    print(f"\nbench: results written to {save(results, args.name)}")


if __name__ == "__main__":
    main()
