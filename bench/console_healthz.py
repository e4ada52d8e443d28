"""/healthz latency while a headless Chromium holds two web console pages open (their idle
keep-alive sockets parked in the API's gunicorn gthread workers).

    python -m bench.console_healthz [--requests 50]

Starts its own stack (embedded PostgreSQL/Redis, API, scheduler, one worker) under a temp dir and needs
Debian's chromium + chromium-driver (`make browser`)."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from services.stack import Stack, StackConfig
from shared.db.engine import Database
from shared.domain.roles import Role
from shared.embedded import free_port
from shared.store import tokens

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from chromium import start_chromium  # the browser tests' launcher: one set of flags


def run_console_healthz(count: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="drwave-console-healthz-") as state, Stack(
        StackConfig(state_dir=Path(state), api_port=free_port(), workers=1)
    ) as stack:
        db = Database(stack.database_url)
        with db.engine.begin() as conn:
            token = tokens.create(conn, "bench-console-healthz", Role.READ_ONLY)
        db.dispose()
        browser = start_chromium(str(Path(state) / "chromium"))
        try:
            browser.get(f"{stack.api_url}/console/login")
            browser.find_element("name", "token").send_keys(token)
            browser.find_element("xpath", "//button[text()='Log in']").click()
            browser.get(f"{stack.api_url}/console/executions")  # live: polls a fragment every second
            browser.switch_to.new_window("tab")
            browser.get(f"{stack.api_url}/console/plans")
            latencies = []
            for _ in range(count):
                started = time.perf_counter()
                requests.get(f"{stack.api_url}/healthz", timeout=10).raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
                time.sleep(0.05)
        finally:
            browser.quit()
    ordered = sorted(latencies)
    return {
        "requests": count,
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console_healthz", description=__doc__)
    parser.add_argument("--requests", type=int, default=50)
    result = run_console_healthz(parser.parse_args().requests)
    print(f"/healthz beside an open console (2 tabs): {result}")


if __name__ == "__main__":
    main()
