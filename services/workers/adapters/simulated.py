"""The `simulated` adapter: orchestration without AWS, for tests, the demo and benchmarks.

The operation takes the ARN's stated duration — polled with short task retries, never slept in a
worker slot — and then succeeds, or fails with a recorded error for `/fail` ARNs.
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
        return Started(f"sim-{ctx.execution_id}-{ctx.resource_run_id}", {"durationMs": spec.duration_ms})

    instantiate = activate = cleanup = replicate = _start

    def status(self, ctx: ResourceContext) -> Progress:
        spec = parse_simulated_arn(ctx.arn)
        remaining = spec.duration_ms / 1000 - ctx.elapsed_seconds()
        if remaining > 0:
            return Progress(Outcome.IN_PROGRESS, retry_after=remaining)
        if spec.fail:
            return Progress(Outcome.FAILED, error=f"simulated failure of {spec.name}")
        return Progress(Outcome.SUCCEEDED)
