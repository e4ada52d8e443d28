"""The floor: what bare Celery costs on this machine, with no database and no drwave code.

The same Redis binary and configuration (``ensure_redis`` under its own state dir), the same Celery
settings (``create_celery``: acks_late, prefetch, JSON) and one worker with the same concurrency as
drwave's bench worker. Each task only stamps ``time.perf_counter()`` (CLOCK_MONOTONIC, comparable across
processes); a chord body collects the stamps of its header.

    floor B1   a chain of W chords of R tasks: last stamp of chord N -> first stamp of chord N+1
    floor B3   one chord of N tasks: submit -> body ran
    floor B7   C chains started together: tasks per second

``python -m bench.floor --redis URL --concurrency N`` is the worker process (``FloorWorker`` starts it).
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery, chain, chord

from shared.embedded import EmbeddedServer, ensure_redis
from shared.messaging import create_celery
from shared.settings import CommonSettings

QUEUE = "floor"
STAMP = "floor.stamp"
BODY = "floor.body"


def build(redis_url: str) -> Celery:
    app = create_celery("drwave-floor", CommonSettings(redis_url=redis_url))
    app.conf.task_default_queue = QUEUE

    @app.task(name=STAMP)
    def stamp() -> float:
        return time.perf_counter()

    @app.task(name=BODY)
    def body(stamps: list[float]) -> dict:
        return {"first": min(stamps), "last": max(stamps), "at": time.perf_counter(), "tasks": len(stamps)}

    return app


def _chain(app: Celery, waves: int, size: int):
    """A chain of `waves` chords; returns the signature and the ids of its bodies in order."""
    chords, body_ids = [], []
    for _ in range(waves):
        body = app.signature(BODY, queue=QUEUE).freeze()
        body_ids.append(body.id)
        header = [app.signature(STAMP, queue=QUEUE, immutable=True) for _ in range(size)]
        chords.append(chord(header, app.signature(BODY, queue=QUEUE).set(task_id=body.id)))
    return chain(*chords, app=app), body_ids


class FloorWorker:
    """Its own embedded Redis and one Celery worker process; a context manager."""

    def __init__(self, state_dir: Path, concurrency: int, log_dir: Path):
        self.state_dir = state_dir
        self.concurrency = concurrency
        self.log_dir = log_dir
        self.redis: EmbeddedServer | None = None
        self.process: subprocess.Popen | None = None
        self.app: Celery | None = None

    def __enter__(self) -> FloorWorker:
        self.redis = ensure_redis(self.state_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "floor-worker.log", "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.floor",
                    "--redis",
                    self.redis.url,
                    "--concurrency",
                    str(self.concurrency),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.app = build(self.redis.url)
        deadline = time.monotonic() + 120
        while not (self.app.control.ping(timeout=0.5) or []):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"floor worker did not start; see {self.log_dir / 'floor-worker.log'}")
        return self

    def __exit__(self, *exc) -> None:
        if self.app is not None:  # results unsubscribe from Redis when collected: let them, while it runs
            for pending in self.app.backend._pending_results:
                pending.clear()
            gc.collect()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.app is not None:
            self.app.close()
        if self.redis is not None and self.redis.started:
            self.redis.stop()

    @property
    def pids(self) -> list[int]:
        return [self.process.pid] if self.process is not None else []

    def _await(self, task_id: str, timeout: float) -> dict:
        """A body's result, read from the backend every 20 ms, as drwave's bench reads Postgres (waiting
        through Celery's result consumer would have this process drain every header task's result)."""
        assert self.app is not None
        deadline = time.monotonic() + timeout
        while True:
            meta = self.app.backend.get_task_meta(task_id)
            if meta["status"] == "SUCCESS":
                return meta["result"]
            if meta["status"] == "FAILURE" or time.monotonic() > deadline:
                raise RuntimeError(f"floor task {task_id}: {meta['status']} {meta.get('result')!r}")
            time.sleep(0.02)

    def wave_gaps(self, waves: int = 10, size: int = 10, timeout: float = 300) -> list[float]:
        """One chain of chords; the gaps (ms) from the last task of chord N to the first of chord N+1."""
        assert self.app is not None
        signature, body_ids = _chain(self.app, waves, size)
        signature.apply_async()
        bodies = [self._await(body_id, timeout) for body_id in body_ids]
        return [(bodies[n + 1]["first"] - bodies[n]["last"]) * 1000 for n in range(waves - 1)]

    def one_chord(self, size: int, timeout: float = 1800) -> float:
        """Seconds from submitting one chord of `size` tasks to its body having run."""
        assert self.app is not None
        header = [self.app.signature(STAMP, queue=QUEUE, immutable=True) for _ in range(size)]
        body = self.app.signature(BODY, queue=QUEUE).freeze()
        started = time.perf_counter()
        chord(header, app=self.app)(self.app.signature(BODY, queue=QUEUE).set(task_id=body.id))
        return self._await(body.id, timeout)["at"] - started

    def many_chains(self, chains: int, waves: int, size: int, timeout: float = 1800) -> dict:
        """`chains` chains of `waves` chords of `size` tasks, started together: tasks per second."""
        assert self.app is not None
        built = [_chain(self.app, waves, size) for _ in range(chains)]
        started = time.perf_counter()
        for signature, _ in built:
            signature.apply_async()
        finished = [self._await(body_ids[-1], timeout)["at"] for _, body_ids in built]
        seconds = max(finished) - started
        tasks = chains * waves * size
        return {
            "chains": chains,
            "tasks": tasks,
            "seconds": round(seconds, 3),
            "tasks_per_second": round(tasks / seconds, 1),
            "chain_seconds": sorted(round(at - started, 3) for at in finished),
        }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    build(args.redis).worker_main(
        [
            "worker",
            "-Q",
            QUEUE,
            "-n",
            "floor@%h",
            "-c",
            str(args.concurrency),
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ]
    )


if __name__ == "__main__":
    main()
