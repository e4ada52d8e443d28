"""localaws: one local AWS endpoint for drwave (docs/architecture.md, "Local AWS").

moto serves RDS, ECS, Lambda, Route 53, Tagging, STS, SNS, EventBridge and EC2; this package adds
what moto lacks (Elastic Disaster Recovery, Aurora global failover/switchover, Route 53 in the
Tagging API), an admin API under ``/_localaws/`` (reset, call counts, fault injection, DRS source
servers, timing) and a demo estate seed. boto3 reaches it through ``endpoint_url=`` or
``AWS_ENDPOINT_URL``, so product code has no test-only branches.

``LocalAws`` is imported lazily so that ``python -m deploy.localaws seed`` does not load moto.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deploy.localaws.server import LocalAws

__all__ = ["LocalAws"]


def __getattr__(name: str) -> Any:
    if name == "LocalAws":
        from deploy.localaws.server import LocalAws

        return LocalAws
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
