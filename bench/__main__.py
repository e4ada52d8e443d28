"""`make bench`: measure the wave engine on real PostgreSQL, Redis, API and worker processes with the
simulated adapter, interleaved with the floor (bare Celery, no database: bench/floor.py) in the same run,
and print drwave/floor ratios next to the absolute figures. Writes bench/results/<name>.json. Targets:
issue 14 (ratios to the floor) and docs/architecture.md, "Performance targets".

    B1  wave-to-wave overhead, 10 waves x 10 zero-duration resources: last finish of wave N ->
        first start of wave N+1 (p50/p95 ms, from Postgres timestamps); floor: a chain of 10 chords of 10
    B2  resume call -> first resource of the next wave started (p50/p95 ms); ratio to the floor's B1 p50
    B3  one wave of 1,000 resources, start request -> execution finished (s); floor: one 1,000-task chord
    B3 size (--b3-size 10000)  the same at 10,000, peak RSS of every drwave process at each size, and
        GET /v1/executions/{id} latency on the 10,000-resource execution
    B7  20 executions of 5 waves x 20 resources started together: resource steps per second against the
        floor's tasks per second (20 chains of 5 chords x 20), each execution's duration, invariants
    B5  AWS calls by operation for a 300-server DRS wave, counted at the local AWS (bench/b5_drs.py)
    B8  B1 with a subscriber that sleeps 10 s per request; B9 the HTML report of a 1,000-resource execution
        (bench/oncall.py)
    B6  AWS finished -> resource run finished_at for DRS, Aurora and ECS at default settings, and
        DescribeJobs per second per account+Region, counted at the local AWS (bench/b6_lag.py)

`--quick` runs each once (about 2-3 minutes); the default takes about 10.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

from bench import oncall
from bench.b5_drs import save
from bench.drwave import Bench, percentile, summary
from bench.floor import FloorWorker
from bench.report import table
from bench.rss import peak_rss
from services.demo import Api
from services.stack import Stack, StackConfig
from shared.db.engine import Database
from shared.domain.roles import Role
from shared.embedded import free_port
from shared.store import tokens


def ratio(drwave: float, floor: float) -> float:
    return round(drwave / floor, 2) if floor else float("nan")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one round of each, B3 at 1,000 only, no B5")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved floor/drwave rounds (default 5)")
    parser.add_argument("--b2-samples", type=int, default=None, help="resumes measured for B2 (default 20)")
    parser.add_argument("--b3-size", type=int, action="append", help="extra B3 sizes (default 10000)")
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--no-b5", action="store_true", help="skip B5 (the DRS wave on the local AWS)")
    parser.add_argument("--no-b6", action="store_true", help="skip B6 (AWS finished -> drwave knows)")
    parser.add_argument("--no-b7", action="store_true", help="skip B7 (20 executions at once)")
    parser.add_argument("--name", default=None, help="results file name (default: timestamp)")
    args = parser.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.b2_samples = args.b2_samples or (5 if args.quick else 20)
    args.sizes = args.b3_size if args.b3_size is not None else ([] if args.quick else [10_000])
    args.no_b5 = args.no_b5 or args.quick
    return args


def run_stack_benchmarks(args: argparse.Namespace, results: dict) -> None:
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
            f"bench: starting PostgreSQL, Redis, API, scheduler and a worker (concurrency {args.worker_concurrency})"
            " and the floor (its own Redis, one bare Celery worker) ...",
            flush=True,
        )
        with (
            Stack(config) as stack,
            FloorWorker(Path(state) / "floor", args.worker_concurrency, Path(state) / "logs") as floor,
        ):
            db = Database(stack.database_url)
            with db.engine.begin() as conn:
                token = tokens.create(conn, "bench", Role.ADMIN)
            bench = Bench(stack, Api(stack.api_url, token))
            pids = {name: process.pid for name, process in stack.processes.items()}
            bench.b1_run(), floor.wave_gaps(), floor.one_chord(100)  # warm-up: imports, pools, prefork children

            print(f"bench: B1 wave-to-wave, {args.rounds} interleaved rounds (floor, drwave) ...", flush=True)
            floor_gaps, drwave_gaps, parts = [], [], {}
            for _ in range(args.rounds):
                floor_gaps += floor.wave_gaps()
                drwave_gaps += bench.b1_run(parts=parts)
            b1, b1_floor = summary(drwave_gaps), summary(floor_gaps)
            results["B1_wave_to_wave"] = {
                **b1,
                "breakdown_p50_ms": {name: round(percentile(values, 50), 2) for name, values in parts.items()},
                "floor": b1_floor,
                "ratio_p50": ratio(b1["p50_ms"], b1_floor["p50_ms"]),
                "ratio_p95": ratio(b1["p95_ms"], b1_floor["p95_ms"]),
            }

            print(f"bench: B8 B1 with a subscriber that sleeps {oncall.SLOW_SECONDS:.0f} s per request ...", flush=True)
            results["B8_b1_slow_subscriber"] = oncall.b1_with_slow_subscriber(bench, args.rounds)

            print("bench: B2 resume -> first task ...", flush=True)
            b2 = bench.b2_resume(args.b2_samples)
            results["B2_resume_to_first_task"] = {
                **b2,
                "ratio_p50_to_floor_b1_p50": ratio(b2["p50_ms"], b1_floor["p50_ms"]),
            }

            print(f"bench: B3 one wave of 1000, {args.rounds} interleaved rounds (floor chord, drwave) ...", flush=True)
            results["B3_one_wave"] = [bench.b3_interleaved(floor, 1000, args.rounds)]
            results["B3_one_wave"][0]["peak_rss"] = peak_rss(pids) | {"floor": peak_rss({"w": floor.pids[0]})["w"]}
            b3_1000 = results["B3_one_wave"][0]
            print("bench: B9 HTML report of the 1,000-resource execution ...", flush=True)
            results["B9_report_render"] = oncall.report_render(bench, b3_1000["executions"][-1], 1000)
            for size in args.sizes:
                print(f"bench: B3 one wave of {size} (floor chord, drwave) ...", flush=True)
                b3 = bench.b3_interleaved(floor, size, 1)
                b3["peak_rss"] = peak_rss(pids) | {"floor": peak_rss({"w": floor.pids[0]})["w"]}
                b3["get_execution"] = bench.get_latency(b3["executions"][-1])
                base = results["B3_one_wave"][0]
                b3["vs_1000"] = {
                    "time_ratio": ratio(b3["seconds"], base["seconds"]),
                    "rss_ratio": {
                        name: ratio(b3["peak_rss"][name]["max_mib"], base["peak_rss"][name]["max_mib"]) for name in pids
                    },
                }
                results["B3_one_wave"].append(b3)

            if not args.no_b7:
                print("bench: B7 20 executions of 5 waves x 20 at once (floor: 20 chains) ...", flush=True)
                floor_b7 = floor.many_chains(20, 5, 20)
                b7 = bench.b7_many(20, 5, 20)
                results["B7_many_at_once"] = {
                    **b7,
                    "floor": floor_b7,
                    "ratio": ratio(b7["steps_per_second"], floor_b7["tasks_per_second"]),
                }
            db.dispose()


def main() -> None:
    args = parse()
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "arguments": {k: v for k, v in vars(args).items() if k != "name"},
    }
    run_stack_benchmarks(args, results)
    if not args.no_b6:
        from bench.b6_lag import DURATIONS, run_b6

        print("bench: B6 AWS finished -> drwave knows (DRS, Aurora, ECS on the local AWS) ...", flush=True)
        durations = DURATIONS[::2] if args.quick else DURATIONS
        results["B6_aws_done_lag"] = run_b6(durations, worker_concurrency=args.worker_concurrency, out=lambda _: None)
    if not args.no_b5:
        from bench.b5_drs import run_b5

        print("bench: B5 a 300-server DRS wave on the local AWS ...", flush=True)
        results["B5_drs_calls"] = run_b5(300, worker_concurrency=args.worker_concurrency, out=lambda _: None)
    print("\n" + table(results))
    print(f"\nbench: results written to {save(results, args.name)}")


if __name__ == "__main__":
    main()
