"""drwave's side of the bench: executions of simulated resources through the API, timed from Postgres."""

from __future__ import annotations

import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, text

from bench.floor import FloorWorker
from bench.rss import cpu_seconds
from services.demo import Api
from services.stack import Stack
from shared.db.engine import Database

SIM = "arn:drwave:simulated:us-west-2:123456789012:resource"
TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}
GROUP_SIZE = 2000  # ARNs per protection group: keeps a 10,000-resource plan's request bodies small


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(gaps: list[float]) -> dict:
    return {
        "samples": len(gaps),
        "p50_ms": round(percentile(gaps, 50), 2),
        "p95_ms": round(percentile(gaps, 95), 2),
        "max_ms": round(max(gaps), 2),
        "mean_ms": round(statistics.fmean(gaps), 2),
    }


def arns(prefix: str, count: int) -> list[str]:
    return [f"{SIM}/{prefix}-{uuid.uuid4().hex[:12]}" for _ in range(count)]


class Bench:
    def __init__(self, stack: Stack, api: Api):
        self.stack = stack
        self.api = api
        self.db = Database(stack.database_url)

    def plan(self, waves: list[list[str]], pause_before: bool = False) -> str:
        specs = []
        for number, members in enumerate(waves, start=1):
            groups = [
                self.api.ok(
                    "POST",
                    "/v1/protection-groups",
                    json={
                        "name": f"bench {uuid.uuid4().hex[:10]}",
                        "region": "us-west-2",
                        "selection": {"resourceArns": members[start : start + GROUP_SIZE]},
                    },
                )["id"]
                for start in range(0, len(members), GROUP_SIZE)
            ]
            specs.append(
                {"name": f"wave {number}", "protectionGroupIds": groups, "pauseBeforeWave": pause_before and number > 1}
            )
        return self.api.ok(
            "POST", "/v1/recovery-plans", json={"name": f"bench {uuid.uuid4().hex[:10]}", "waves": specs}
        )["id"]

    def run(self, plan_id: str, api: Api | None = None) -> str:
        return (api or self.api).ok("POST", "/v1/executions", json={"planId": plan_id})["execution"]["id"]

    def read(self, sql: str, **params: Any) -> list[Row]:
        """The rows of one query, on a pooled connection of its own (the bench only reads Postgres)."""
        with self.db.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def status(self, execution_id: str) -> str:
        return self.read("SELECT status FROM executions WHERE id = :id", id=execution_id)[0].status

    def wait(self, execution_ids: list[str], statuses: set[str], timeout: float = 1800) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(execution_ids)
        while waiting:
            waiting = [e for e in waiting if self.status(e) not in statuses]
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(f"{waiting} not {statuses} after {timeout:.0f}s")
            time.sleep(0.02)

    def wave_bounds(self, execution_id: str) -> dict[int, tuple[datetime, datetime]]:
        rows = self.read(
            "SELECT wave_number, min(started_at), max(finished_at) FROM resource_runs"
            " WHERE execution_id = :id GROUP BY wave_number ORDER BY wave_number",
            id=execution_id,
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    # --- B1, B2, B3 -----------------------------------------------------------------------------

    def b1_run(self, waves: int = 10, size: int = 10, parts: dict[str, list[float]] | None = None) -> list[float]:
        """One execution of `waves` x `size` zero-duration resources; its wave-to-wave gaps (ms). With
        `parts`, each gap's pieces are appended to it: last resource finished -> the scheduler closed the
        wave (chord callback delivered, snapshot read), closed -> next wave started (same transaction),
        next wave started -> its first resource claimed (commit, chord published, task delivered, claim)."""
        execution_id = self.run(self.plan([arns("b1", size) for _ in range(waves)]))
        self.wait([execution_id], TERMINAL)
        bounds = self.wave_bounds(execution_id)
        if parts is not None:
            marks = {
                row[0]: (row[1], row[2])
                for row in self.read(
                    "SELECT number, started_at, finished_at FROM wave_runs WHERE execution_id = :id", id=execution_id
                )
            }
            for n in range(1, waves):
                pieces = {
                    "callback_ms": (marks[n][1] - bounds[n][1]),
                    "close_to_start_ms": (marks[n + 1][0] - marks[n][1]),
                    "dispatch_to_claim_ms": (bounds[n + 1][0] - marks[n + 1][0]),
                }
                for name, delta in pieces.items():
                    parts.setdefault(name, []).append(delta.total_seconds() * 1000)
        return [(bounds[n + 1][0] - bounds[n][1]).total_seconds() * 1000 for n in range(1, waves)]

    def b2_resume(self, samples: int) -> dict:
        execution_id = self.run(self.plan([arns("b2", 5) for _ in range(samples + 1)], pause_before=True))
        latencies: list[float] = []
        for number in range(2, samples + 2):
            self.wait([execution_id], {"PAUSED"})
            sent = datetime.now(UTC)
            self.api.ok("POST", f"/v1/executions/{execution_id}/resume")
            first_start = None
            while first_start is None:
                first_start = self.wave_bounds(execution_id).get(number, (None, None))[0]
                if first_start is None:
                    time.sleep(0.005)
            latencies.append((first_start - sent).total_seconds() * 1000)
        self.wait([execution_id], TERMINAL)
        return summary(latencies)

    def b3_run(self, size: int) -> dict:
        execution_id = self.run(self.plan([arns("b3", size)]))
        self.wait([execution_id], TERMINAL)
        [row] = self.read(
            "SELECT status, extract(epoch FROM finished_at - created_at) FROM executions WHERE id = :id",
            id=execution_id,
        )
        [(succeeded,)] = self.read(
            "SELECT count(*) FROM resource_runs WHERE execution_id = :id AND status = 'SUCCEEDED'", id=execution_id
        )
        return {"execution": execution_id, "status": row[0], "succeeded": succeeded, "seconds": float(row[1])}

    def b3_interleaved(self, floor: FloorWorker, size: int, rounds: int) -> dict:
        """Floor chords and drwave waves of `size`, in turns; with the CPU seconds each drwave process (and
        its PostgreSQL and Redis) and the floor's worker spent per run (medians): where the time goes."""
        floor_runs, runs, cpu = [], [], {}
        drwave = {name: process.pid for name, process in self.stack.processes.items()}
        drwave |= {server.url.split(":", 1)[0].split("+")[0]: server.pid for server in self.stack.embedded}
        for _ in range(rounds):
            before = cpu_seconds({"floor-worker": floor.pids[0]})
            floor_runs.append(round(floor.one_chord(size), 3))
            after = cpu_seconds({"floor-worker": floor.pids[0]})
            cpu.setdefault("floor-worker", []).append(after["floor-worker"] - before["floor-worker"])
            before = cpu_seconds(drwave)
            runs.append(self.b3_run(size))
            for name, seconds in cpu_seconds(drwave).items():
                cpu.setdefault(name, []).append(seconds - before[name])
        seconds, floor_seconds = statistics.median(r["seconds"] for r in runs), statistics.median(floor_runs)
        return {
            "resources": size,
            "rounds": rounds,
            "seconds": round(seconds, 3),
            "floor_seconds": round(floor_seconds, 3),
            "ratio": round(seconds / floor_seconds, 2),
            "runs": [round(r["seconds"], 3) for r in runs],
            "floor_runs": floor_runs,
            "statuses": sorted({r["status"] for r in runs}),
            "succeeded": [r["succeeded"] for r in runs],
            "executions": [r["execution"] for r in runs],
            "cpu_seconds_per_run": {name: round(statistics.median(values), 2) for name, values in cpu.items()},
        }

    def get_latency(self, execution_id: str, samples: int = 5) -> dict:
        """GET /v1/executions/{id} as a client sees it (the whole answer read): every resource run, and
        the first page of 500 (`resourcesLimit`)."""
        figures = {}
        for name, query in (("all", ""), ("page_500", "?resourcesLimit=500")):
            timings, size = [], 0
            for _ in range(samples):
                started = time.perf_counter()
                response = self.api.call("GET", f"/v1/executions/{execution_id}{query}")
                size = len(response.content)
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            figures[name] = {
                "samples": samples,
                "p50_ms": round(percentile(timings, 50), 1),
                "max_ms": round(max(timings), 1),
                "bytes": size,
            }
        return figures

    # --- B7 -------------------------------------------------------------------------------------

    def b7_many(self, executions: int, waves: int, size: int) -> dict:
        """`executions` plans of `waves` x `size` resources, started together from as many clients."""
        plans = [self.plan([arns("b7", size) for _ in range(waves)]) for _ in range(executions)]
        clients = [Api(self.api.base, self.api.session.headers["Authorization"].split()[1]) for _ in plans]
        with ThreadPoolExecutor(max_workers=executions) as pool:
            ids = list(pool.map(self.run, plans, clients))
        self.wait(ids, TERMINAL)
        rows = self.read(
            "SELECT id, status, created_at, finished_at, extract(epoch FROM finished_at - created_at)"
            " FROM executions WHERE id = ANY(:ids) ORDER BY created_at",
            ids=ids,
        )
        [runs] = self.read(
            "SELECT count(*), count(*) FILTER (WHERE status = 'SUCCEEDED'),"
            " count(*) FILTER (WHERE start_attempts = 1 AND started_at IS NOT NULL)"
            " FROM resource_runs WHERE execution_id = ANY(:ids)",
            ids=ids,
        )
        [(overlaps,)] = self.read(
            "SELECT count(*) FROM (SELECT execution_id, wave_number, min(started_at) AS first,"
            " max(finished_at) AS last FROM resource_runs WHERE execution_id = ANY(:ids)"
            " GROUP BY execution_id, wave_number) a JOIN (SELECT execution_id, wave_number,"
            " min(started_at) AS first FROM resource_runs WHERE execution_id = ANY(:ids)"
            " GROUP BY execution_id, wave_number) b ON b.execution_id = a.execution_id"
            " AND b.wave_number = a.wave_number + 1 WHERE b.first < a.last",
            ids=ids,
        )
        total = (max(r.finished_at for r in rows) - min(r.created_at for r in rows)).total_seconds()
        durations = sorted(round(float(r[4]), 2) for r in rows)
        expected = executions * waves * size
        return {
            "executions": executions,
            "resources": runs[0],
            "seconds": round(total, 3),
            "steps_per_second": round(runs[1] / total, 1),
            "durations_s": durations,
            "invariants": {
                "every_execution_terminal": all(r.status in TERMINAL for r in rows) and len(rows) == executions,
                "every_execution_completed": all(r.status == "COMPLETED" for r in rows),
                "every_resource_succeeded": runs[1] == expected,
                "every_resource_started_once": runs[2] == expected and runs[0] == expected,
                "no_wave_started_before_the_previous_ended": overlaps == 0,
            },
        }
