"""The `ecs` adapter: an ECS service in the DR region, scaled to its DR size.

The resource is the DR-region service (``arn:aws:ecs:<region>:<account>:service/<cluster>/<service>``).
Its target size is the tag ``dr:desired-count`` on the service, or, failing that, the desired count of
the primary service named by the tag ``dr:primary-service`` (an ECS service ARN).

| phase | what |
|---|---|
| instantiate | ``update_service(desiredCount=target)``, recording the count before it (the snapshot) |
| activate | running == desired > 0, the PRIMARY deployment's rollout COMPLETED |
| cleanup | after a drill: back to the recorded count (a drill without a record: 0); after a recovery: kept |
| replicate | not applicable (recorded as such) |

Scaling a DR copy up touches no live traffic, so drill and recovery instantiate alike.
"""

from __future__ import annotations

from typing import Any

from .base import Failed, Outcome, Progress, ResourceContext, Started
from .common import AwsAdapter, aws, aws_value, done_at_start, parse_arn
from .registry import register

TAG_DESIRED = "dr:desired-count"
TAG_PRIMARY = "dr:primary-service"
IP, OK, KO = Outcome.IN_PROGRESS, Outcome.SUCCEEDED, Outcome.FAILED


def service_of(arn: str) -> tuple[str, str, str, str]:
    """``(region, account, cluster, service)`` of a service ARN (new format ``service/<cluster>/<name>``)."""
    parsed = parse_arn(arn)
    parts = parsed.resource.split("/")
    if parsed.service != "ecs" or parts[0] != "service" or len(parts) != 3:
        raise Failed(f"{arn} is not an ECS service ARN of the form …:service/<cluster>/<service>")
    return parsed.region, parsed.account, parts[1], parts[2]


def target_count(tags: dict[str, str], primary_count: int | None = None) -> int:
    """The DR size: ``dr:desired-count``, else the primary's count; raises :class:`Failed` otherwise."""
    raw = tags.get(TAG_DESIRED)
    if raw is not None:
        value = raw.strip()
        if not value.isascii() or not value.isdigit():
            raise Failed(f"tag {TAG_DESIRED}={raw!r} is not a whole number of tasks")
        return int(value)
    if primary_count is not None:
        return primary_count
    raise Failed(f"no DR size: tag the service {TAG_DESIRED}=<tasks> (or {TAG_PRIMARY}=<primary service ARN>)")


def rollout(service: dict[str, Any]) -> str | None:
    primary = next((d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), None)
    return primary.get("rolloutState") if primary else None


@register("ecs")
class EcsAdapter(AwsAdapter):
    name = "ecs"
    service = "ecs"

    def _describe(self, ctx: ResourceContext, arn: str, tags: bool = False) -> dict[str, Any]:
        region, account, cluster, name = service_of(arn)
        ecs = self.client(ctx, region, account_id=account or None)
        extra = {"include": ["TAGS"]} if tags else {}
        answer = aws_value(
            lambda: ecs.describe_services(cluster=cluster, services=[arn], **extra), f"ecs.describe_services {name}"
        )
        services = [s for s in answer.get("services") or [] if s.get("status") != "INACTIVE"]
        if not services:
            reasons = ", ".join(f.get("reason", "?") for f in answer.get("failures") or []) or "INACTIVE"
            raise Failed(f"ECS service {name} of cluster {cluster} was not found ({reasons})")
        return services[0]

    def _scale(self, ctx: ResourceContext, count: int, detail: dict[str, Any]) -> Started:
        region, account, cluster, name = service_of(ctx.arn)
        ecs = self.client(ctx, region, account_id=account or None)
        aws(
            lambda: ecs.update_service(cluster=cluster, service=ctx.arn, desiredCount=count),
            f"ecs.update_service {name} to {count} tasks",
        )
        return Started(f"{ctx.arn}@{count}", {**detail, "desiredCount": count})

    def instantiate(self, ctx: ResourceContext) -> Started:
        service = self._describe(ctx, ctx.arn, tags=True)
        tags = {t["key"]: t["value"] for t in service.get("tags") or [] if "key" in t}
        primary = None
        if TAG_DESIRED not in tags and tags.get(TAG_PRIMARY):
            primary = int(self._describe(ctx, tags[TAG_PRIMARY]).get("desiredCount", 0))
        count = target_count(tags, primary)
        previous = int(service.get("desiredCount", 0))
        if ctx.detail.get("previousDesiredCount") is not None:  # a redelivered start keeps the first snapshot
            previous = int(ctx.detail["previousDesiredCount"])
        return self._scale(ctx, count, {"previousDesiredCount": previous, "drill": ctx.is_drill})

    def activate(self, ctx: ResourceContext) -> Started:
        return Started(f"check:{ctx.arn}", {"check": "running"})

    def cleanup(self, ctx: ResourceContext) -> Started:
        source = ctx.source_detail
        if source and not source.get("drill", True):
            return Started(f"kept:{ctx.arn}", {"note": "kept: after a recovery the DR service serves production"})
        previous = source.get("previousDesiredCount")
        if previous is None and not ctx.is_drill:  # never guess a production service's size
            raise Failed(
                "no snapshot of the service before the instantiate phase (start cleanup with its sourceExecutionId)"
            )
        count = int(previous) if previous is not None else 0
        return self._scale(ctx, count, {"restoredFrom": "snapshot" if previous is not None else "drill default 0"})

    def replicate(self, ctx: ResourceContext) -> Started:
        return self.not_applicable(ctx, "ECS services have no replication to reverse")

    def status(self, ctx: ResourceContext) -> Progress:
        if done_at_start(ctx):
            return Progress(OK)
        service = self._describe(ctx, ctx.arn)
        desired, running = int(service.get("desiredCount", 0)), int(service.get("runningCount", 0))
        state = rollout(service)
        observed = {"desiredCount": desired, "runningCount": running, "rolloutState": state}
        wanted = ctx.detail.get("desiredCount")
        if wanted is not None and desired != int(wanted):
            return Progress(KO, observed, f"desired count is {desired}, not the {wanted} this phase set")
        if ctx.phase == "activate" and desired == 0:
            return Progress(KO, observed, "the service is scaled to 0 tasks (instantiate it first)")
        if state == "FAILED":
            return Progress(KO, observed, "the service's deployment rollout FAILED")
        if running == desired and state in (None, "COMPLETED"):
            return Progress(OK, observed)
        return Progress(IP, observed)
