"""The `simulated` adapter: orchestration without AWS, for tests, the demo and benchmarks.

The operation takes the ARN's stated duration — polled with short task retries, never slept in a
worker slot — and then succeeds, or fails with a recorded error for `/fail` ARNs (`/failN`: the first N
attempts fail, a retried run's later attempt succeeds).
"""

from __future__ import annotations

from typing import Any

from shared.domain.simulated import parse_simulated_arn

from .base import Adapter, Outcome, Progress, ResourceContext, Started
from .registry import register


@register("simulated")
class SimulatedAdapter(Adapter):
    name = "simulated"
    uses_aws = False

    def __init__(self, **_: Any):
        pass

    def _start(self, ctx: ResourceContext) -> Started:
        spec = parse_simulated_arn(ctx.arn)
        operation = f"sim-{ctx.execution_id}-{ctx.resource_run_id}"
        if ctx.attempt > 1:
            operation += f"-attempt{ctx.attempt}"
        return Started(operation, {"durationMs": spec.duration_ms})

    instantiate = activate = cleanup = replicate = _start

    def status(self, ctx: ResourceContext) -> Progress:
        spec = parse_simulated_arn(ctx.arn)
        remaining = spec.duration_ms / 1000 - ctx.elapsed_seconds()
        if remaining > 0:
            return Progress(Outcome.IN_PROGRESS, retry_after=remaining)
        if spec.fails(ctx.attempt):
            return Progress(Outcome.FAILED, error=f"simulated failure of {spec.name} (attempt {ctx.attempt})")
        return Progress(Outcome.SUCCEEDED)
