"""Counters every drwave process adds to and the API's /metrics reads: one Redis hash per counter, one
field per label set, incremented with HINCRBYFLOAT.

Why Redis and not Prometheus' multiprocess mode: the processes that count (workers, the scheduler, each
gunicorn worker) run on different hosts or containers in production, and multiprocess mode only adds up
files on one host's disk. Every process already reaches Redis (it is the broker), an increment is one
round trip, and any API process reads the same totals. A Redis that lost its data starts the counters
from zero again, which Prometheus' rate() and increase() treat as the counter reset it is. Counting never
fails the work being counted: a Redis error while counting is logged and dropped.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import redis

log = logging.getLogger(__name__)

KEY_PREFIX = "drwave:counters:"


@dataclass(frozen=True)
class CounterSpec:
    name: str  # the Prometheus name, without the _total suffix
    help: str
    labels: tuple[str, ...]


AWS_CALLS = CounterSpec(
    "drwave_aws_calls",
    "AWS API calls (HTTP attempts, botocore retries included) by outcome: ok, throttled, client_error, "
    "server_error, connection_error",
    ("service", "operation", "outcome"),
)
RECONCILER_ACTIONS = CounterSpec(
    "drwave_reconciler_actions",
    "what the reconciler repaired: started (lost start), timed_out, republished (lost task), advanced",
    ("action",),
)
API_REQUESTS = CounterSpec("drwave_api_requests", "API requests answered", ("method", "endpoint", "status"))
ALL = (AWS_CALLS, RECONCILER_ACTIONS, API_REQUESTS)


def counters_client(redis_url: str) -> redis.Redis:
    """A Redis client for counting only: short timeouts, so a frozen Redis delays a request or an AWS call
    by at most a second per count instead of the broker's patience. Connects on first use."""
    return redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)


class RedisCounter:
    def __init__(self, client: redis.Redis, spec: CounterSpec):
        self.client = client
        self.spec = spec
        self.key = KEY_PREFIX + spec.name

    def inc(self, *label_values: str, amount: float = 1) -> None:
        if len(label_values) != len(self.spec.labels):
            raise ValueError(f"{self.spec.name} takes labels {self.spec.labels}, got {label_values}")
        try:
            self.client.hincrbyfloat(self.key, json.dumps([str(v) for v in label_values]), amount)
        except redis.RedisError as error:
            log.warning("counter %s%s not counted: %s", self.spec.name, label_values, error)

    def read(self) -> dict[tuple[str, ...], float]:
        """Every label set counted so far and its total (raises redis.RedisError when Redis is away)."""
        return {tuple(json.loads(field)): float(value) for field, value in self.client.hgetall(self.key).items()}
