"""Where a worker's CPU per resource goes inside drwave's own step (what it adds to a bare Celery task).

    python -m bench.step_profile [--resources 1000] [--rounds 3]

Starts PostgreSQL, Redis, the API and the scheduler but no worker, so each round's execution of
`--resources` zero-duration simulated resources waits with its wave started; then runs
``Recovery.step`` (built as a worker process builds it) over every run in this process: CPU and wall
ms per step, unprofiled, then one more round under cProfile (CPU clock) split into the step's
statements (claim, start, finish), its unit of work and the layers the CPU is spent in (SQLAlchemy,
the psycopg driver, drwave's own code). Celery's share (receive, ack, result, chord join) is what the
floor's worker spends per task: compare the two in B3's CPU seconds (`python -m bench`).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from bench.drwave import Bench, arns
from services.demo import Api
from services.stack import Stack, StackConfig
from services.workers.__main__ import recovery, session_factory
from services.workers.settings import WorkerSettings
from shared.db.engine import Database
from shared.domain.roles import Role
from shared.embedded import free_port
from shared.store import tokens

# (label, file suffix, function name, caller's function name or None): inclusive CPU of each piece
PIECES = (
    ("claim (PENDING -> STARTING, loads the run)", "shared/store/resources.py", "claim_work", None),
    ("start (STARTING -> IN_PROGRESS, operation id)", "shared/store/resources.py", "move", "_start"),
    ("finish (IN_PROGRESS -> SUCCEEDED, timeline)", "shared/store/resources.py", "move", "record"),
    ("unit of work: connection checkout", "shared/unit_of_work.py", "__enter__", None),
    ("unit of work: connection return", "shared/unit_of_work.py", "__exit__", None),
)


def layer(filename: str) -> str:
    if "site-packages/" in filename:
        package = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        return package if package in ("sqlalchemy", "psycopg") else "other libraries"
    if "/services/" in filename or "/shared/" in filename:
        return "drwave code"
    return "Python (stdlib, builtins)"


def breakdown(profile: cProfile.Profile, ms_per_step: float) -> dict:
    """The profiled round's pieces and layers as ms per step, scaled to the unprofiled CPU per step."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in stats.values()) or 1.0
    scale = ms_per_step / total

    def inclusive(suffix: str, name: str, caller: str | None) -> float:
        seconds = 0.0
        for (filename, _, function), (_, _, _, cumulative, callers) in stats.items():
            if filename.endswith(suffix) and function == name:
                if caller is None:
                    seconds += cumulative
                else:
                    seconds += sum(c[3] for (_, _, f), c in callers.items() if f == caller)
        return seconds

    pieces = {label: round(inclusive(*where) * scale, 3) for label, *where in PIECES}
    pieces["rest of the step (decisions, adapter, contexts)"] = round(ms_per_step - sum(pieces.values()), 3)
    layers: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in stats.items():
        layers[layer(filename)] = layers.get(layer(filename), 0.0) + own
    return {
        "pieces_ms": pieces,
        "layers_ms": {name: round(seconds * scale, 3) for name, seconds in sorted(layers.items(), key=lambda i: -i[1])},
    }


def run(resources: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="drwave-step-") as state:
        config = StackConfig(
            state_dir=Path(state),
            api_port=free_port(),
            workers=0,
            notifier=False,
            env={"DRWAVE_LOG_LEVEL": "WARNING", "DRWAVE_RECONCILE_INTERVAL": "3600"},
        )
        with Stack(config) as stack:
            db = Database(stack.database_url)
            with db.engine.begin() as conn:
                token = tokens.create(conn, "bench", Role.ADMIN)
            bench = Bench(stack, Api(stack.api_url, token))
            os.environ |= {"DRWAVE_DATABASE_URL": stack.database_url or "", "DRWAVE_REDIS_URL": stack.redis_url or ""}
            settings = WorkerSettings()
            step = recovery(settings, session_factory(settings)).step
            cpu, wall, profile = [], [], None
            for round_number in range(rounds + 2):  # a warm-up round first, a profiled one last
                run_ids = waiting_runs(bench, resources)
                profiled = round_number == rounds + 1
                profile = cProfile.Profile(time.process_time) if profiled else None
                started_cpu, started_wall = time.process_time(), time.perf_counter()
                if profile is not None:
                    profile.enable()
                for run_id in run_ids:
                    if (status := step(run_id).status) != "SUCCEEDED":
                        raise RuntimeError(f"resource run {run_id} ended {status}")
                if profile is not None:
                    profile.disable()
                elif round_number > 0:
                    cpu.append((time.process_time() - started_cpu) * 1000 / resources)
                    wall.append((time.perf_counter() - started_wall) * 1000 / resources)
            db.dispose()
    ms_per_step = statistics.median(cpu)
    return {
        "resources": resources,
        "rounds": rounds,
        "cpu_ms_per_step": [round(value, 3) for value in cpu],
        "wall_ms_per_step": [round(value, 3) for value in wall],
        **breakdown(profile, ms_per_step),  # type: ignore[arg-type]
    }


def waiting_runs(bench: Bench, resources: int) -> list[int]:
    """The run ids of a new execution of `resources` simulated resources, once its wave has started."""
    execution_id = bench.run(bench.plan([arns("step", resources)]))
    started = "SELECT 1 FROM wave_runs WHERE execution_id = :id AND started_at IS NOT NULL"
    while not bench.read(started, id=execution_id):
        time.sleep(0.05)
    rows = bench.read("SELECT id FROM resource_runs WHERE execution_id = :id ORDER BY id", id=execution_id)
    return [row.id for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.step_profile", description=__doc__)
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="unprofiled rounds (their median is the CPU per step)")
    args = parser.parse_args()
    result = run(args.resources, args.rounds)
    print(f"step CPU ms per resource (unprofiled rounds): {result['cpu_ms_per_step']}")
    print(f"step wall ms per resource, one at a time:      {result['wall_ms_per_step']}")
    for title, key in (("pieces", "pieces_ms"), ("layers", "layers_ms")):
        print(f"\n{title} (ms CPU per step, median round):")
        for name, value in result[key].items():
            print(f"  {value:6.3f}  {name}")


if __name__ == "__main__":
    main()
