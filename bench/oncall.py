"""On-call benchmarks for `make bench`:

B1 with a slow subscriber: B1 again while a webhook subscription to every event answers after 10 s per
    request — deliveries run in the notifier, so the waves must not notice.
B6 report render: GET /v1/executions/{id}/report?format=html of a 1,000-resource execution (s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_SECONDS = 10.0
# what the stack needs for B1 with a slow subscriber: the receiver is on 127.0.0.1 and answers after 10 s
STACK_ENV = {"DRWAVE_WEBHOOK_ALLOW_PRIVATE": "true", "DRWAVE_NOTIFY_TIMEOUT": "15"}


@contextmanager
def slow_receiver(seconds: float = SLOW_SECONDS) -> Iterator[tuple[str, list[float]]]:
    """A webhook receiver on 127.0.0.1 that sleeps `seconds` before every 200; yields (url, arrival times)."""
    arrivals: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrivals.append(time.monotonic())
            time.sleep(seconds)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", arrivals
    finally:
        server.shutdown()


def b1_with_slow_subscriber(bench, runs: int) -> dict:
    with slow_receiver() as (url, arrivals):
        body = {"name": "bench slow receiver", "kind": "webhook", "target": url, "events": ["*"]}
        subscription = bench.api.ok("POST", "/v1/subscriptions", json=body)["id"]
        try:
            result = bench.b1_wave_to_wave(runs)
        finally:
            bench.api.ok("DELETE", f"/v1/subscriptions/{subscription}")
        result["receiver_requests_during_run"] = len(arrivals)
        result["receiver_sleep_s"] = SLOW_SECONDS
    return result


def b6_report_render(bench, execution_id: str, resources: int, samples: int = 3) -> dict:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        response = bench.api.call("GET", f"/v1/executions/{execution_id}/report?format=html")
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"report: {response.status_code} {response.text[:200]}")
    return {
        "resources": resources,
        "html_bytes": len(response.content),
        "best_s": min(timings),
        "worst_s": max(timings),
    }
