"""drwave_aws_calls_total counts every AWS call attempt the workers make — throttled ones included — in
Redis, so any API process serves the workers' totals; it agrees with what the local AWS served."""

from __future__ import annotations

import requests
from metrics_support import parse, value


def scrape(api) -> dict:
    # a fresh connection each time, so gunicorn's workers take turns answering
    response = requests.get(
        f"{api.base}/metrics", headers={"Authorization": api.http.headers["Authorization"]}, timeout=30
    )
    assert response.status_code == 200, response.text
    return parse(response.text)


def drs_calls(samples, outcome: str | None = None) -> float:
    return value(samples, "drwave_aws_calls_total", service="drs", **({"outcome": outcome} if outcome else {}))


def test_throttled_drs_calls_of_the_workers_are_counted_as_the_local_aws_served_them(api, localaws, runs_of):
    servers = localaws.source_servers(*({"hostname": f"metrics-{n:02}"} for n in range(8)))
    plan = api.plan([{"name": "Apps", "arns": [s["arn"] for s in servers]}])
    before = scrape(api)
    served_before = localaws.calls()
    throttled_before = localaws.throttled()
    localaws.throttle(0.5, service="drs")

    execution = api.wait(api.start(plan, mode="drill"))
    localaws.clear_faults()
    assert execution["status"] == "COMPLETED"

    served = {k: v - served_before.get(k, 0) for k, v in localaws.calls().items() if k.startswith("drs:")}
    throttled = {k: v - throttled_before.get(k, 0) for k, v in localaws.throttled().items() if k.startswith("drs:")}
    after = scrape(api)
    assert sum(throttled.values()) > 0
    assert drs_calls(after, "throttled") - drs_calls(before, "throttled") == sum(throttled.values())
    assert drs_calls(after) - drs_calls(before) == sum(served.values())
    for key, count in served.items():
        operation = key.split(":", 1)[1]
        counted = value(after, "drwave_aws_calls_total", service="drs", operation=operation) - value(
            before, "drwave_aws_calls_total", service="drs", operation=operation
        )
        assert counted == count, key
