"""The `aurora` adapter: an Aurora global database, moved to its DR-region cluster.

The resource is the DR-region (secondary) cluster (``arn:aws:rds:<dr region>:<account>:cluster:<id>``) or
the global cluster (``…:global-cluster:<id>``, whose single secondary is then the target; or the
``targetClusterArn`` of the run's detail). Every call goes to the target's region: in a real disaster
the primary region may not answer.

| phase | drill | recovery |
|---|---|---|
| instantiate | ``switchover_global_cluster`` (planned, no data loss) | ``failover_global_cluster(AllowDataLoss)`` |
| activate | the DR cluster is the writer and ``available`` | same |
| cleanup | switch back over to the writer recorded before the drill | nothing: a recovery's failover is kept |
| replicate | not applied in a drill | the old writer is attached again as a secondary |

Status comes from ``describe_global_clusters``: done when its ``FailoverState`` is gone and the target
is the writer. A redelivered start finds the operation in progress (``FailoverState`` to our target) or
already done, and does not start another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Failed, Outcome, Progress, ResourceContext, RetryLater, Started
from .common import GLOBAL_REGIONS, AwsAdapter, aws, aws_value, parse_arn
from .registry import register

IP, OK, KO = Outcome.IN_PROGRESS, Outcome.SUCCEEDED, Outcome.FAILED
ALREADY_WRITER = ("InvalidParameterValue",)  # "already the primary cluster": checked again by `status`


@dataclass(frozen=True)
class GlobalView:
    identifier: str
    writer: str | None
    members: tuple[str, ...]
    failover: dict[str, Any] | None


def _region_of(cluster_arn: str) -> str:
    return parse_arn(cluster_arn).region


@register("aurora")
class AuroraAdapter(AwsAdapter):
    name = "aurora"
    service = "rds"

    # --- where things are ------------------------------------------------------------------------

    def _rds(self, ctx: ResourceContext, region: str) -> Any:
        return self.client(ctx, region, account_id=parse_arn(ctx.arn).account or None)

    def _global(self, ctx: ResourceContext, region: str, identifier: str) -> GlobalView:
        rds = self._rds(ctx, region)
        answer = aws_value(
            lambda: rds.describe_global_clusters(GlobalClusterIdentifier=identifier),
            f"rds.describe_global_clusters {identifier}",
        )
        clusters = answer.get("GlobalClusters") or []
        if not clusters:
            raise Failed(f"global cluster {identifier} was not found")
        cluster = clusters[0]
        members = cluster.get("GlobalClusterMembers") or []
        writer = next((m["DBClusterArn"] for m in members if m.get("IsWriter")), None)
        return GlobalView(
            identifier,
            writer,
            tuple(m["DBClusterArn"] for m in members),
            cluster.get("FailoverState") or None,
        )

    def _locate(self, ctx: ResourceContext) -> tuple[str, str]:
        """``(global cluster id, target cluster ARN)`` of the resource."""
        recorded = ctx.detail.get("globalClusterIdentifier"), ctx.detail.get("targetClusterArn")
        if all(recorded):
            return str(recorded[0]), str(recorded[1])
        arn = parse_arn(ctx.arn)
        if arn.service != "rds":
            raise Failed(f"{ctx.arn} is not an RDS ARN")
        if arn.resource.startswith("global-cluster:"):
            identifier = arn.resource_id
            region = GLOBAL_REGIONS.get(arn.partition, "us-east-1")
            view = self._global(ctx, region, identifier)
            target = ctx.detail.get("targetClusterArn")
            if not target:
                secondaries = [m for m in view.members if m != view.writer]
                if len(secondaries) != 1:
                    raise Failed(
                        f"global cluster {identifier} has {len(secondaries)} secondary clusters; name the DR one "
                        "(enrol its cluster ARN instead of the global cluster)"
                    )
                target = secondaries[0]
            return identifier, str(target)
        if not arn.resource.startswith("cluster:"):
            raise Failed(f"{ctx.arn} is neither an Aurora cluster nor a global cluster")
        rds = self._rds(ctx, arn.region)
        answer = aws_value(
            lambda: rds.describe_db_clusters(DBClusterIdentifier=ctx.arn), f"rds.describe_db_clusters {arn.resource_id}"
        )
        clusters = answer.get("DBClusters") or []
        if not clusters:
            raise Failed(f"Aurora cluster {ctx.arn} was not found")
        identifier = clusters[0].get("GlobalClusterIdentifier")
        if not identifier:
            raise Failed(f"Aurora cluster {arn.resource_id} is not a member of a global database; nothing to fail over")
        return str(identifier), ctx.arn

    # --- phases ------------------------------------------------------------------------------------

    def instantiate(self, ctx: ResourceContext) -> Started:
        identifier, target = self._locate(ctx)
        operation = "switchover" if ctx.is_drill else "failover"
        return self._move_writer(ctx, identifier, target, operation, {"drill": ctx.is_drill})

    def _move_writer(
        self, ctx: ResourceContext, identifier: str, target: str, operation: str, extra: dict[str, Any]
    ) -> Started:
        region = _region_of(target)
        view = self._global(ctx, region, identifier)
        detail = {
            "globalClusterIdentifier": identifier,
            "targetClusterArn": target,
            "operation": operation,
            **extra,
        }
        operation_id = f"{identifier}->{target}"
        if view.failover:
            if view.failover.get("ToDbClusterArn") == target:  # ours, started by an earlier delivery
                return Started(operation_id, {**detail, "previousWriterArn": view.failover.get("FromDbClusterArn")})
            raise RetryLater(
                f"global cluster {identifier} is busy moving its writer to {view.failover.get('ToDbClusterArn')}"
            )
        if view.writer == target:
            return Started(operation_id, {**detail, "alreadyWriter": True})
        if target not in view.members:
            raise Failed(f"{target} is not a member of global cluster {identifier}")
        rds = self._rds(ctx, region)
        if operation == "switchover":
            call = lambda: rds.switchover_global_cluster(  # noqa: E731
                GlobalClusterIdentifier=identifier, TargetDbClusterIdentifier=target
            )
        else:
            call = lambda: rds.failover_global_cluster(  # noqa: E731
                GlobalClusterIdentifier=identifier, TargetDbClusterIdentifier=target, AllowDataLoss=True
            )
        aws(call, f"rds.{operation}_global_cluster {identifier} to {target}", done_already=ALREADY_WRITER)
        return Started(operation_id, {**detail, "previousWriterArn": view.writer})

    def activate(self, ctx: ResourceContext) -> Started:
        identifier, target = self._locate(ctx)
        return Started(f"check:{target}", {"globalClusterIdentifier": identifier, "targetClusterArn": target})

    def cleanup(self, ctx: ResourceContext) -> Started:
        source = ctx.source_detail
        if not source.get("operation"):
            raise Failed("no record of what the instantiate phase changed (start cleanup with its sourceExecutionId)")
        identifier = str(source["globalClusterIdentifier"])
        if not source.get("drill"):
            return Started(f"kept:{identifier}", {"note": "nothing to revert: a recovery's failover is kept"})
        previous = source.get("previousWriterArn")
        if source.get("alreadyWriter") or not previous:
            return Started(f"kept:{identifier}", {"note": "nothing to revert: the drill moved no writer"})
        return self._move_writer(
            ctx, identifier, str(previous), "switchover", {"revertOf": source.get("targetClusterArn")}
        )

    def replicate(self, ctx: ResourceContext) -> Started:
        source = ctx.source_detail
        if ctx.is_drill:
            return Started("drill:not-applied", {"applied": False, "note": "not applied in drill"})
        if not source.get("operation"):
            raise Failed("no record of the failover (start replicate with its sourceExecutionId)")
        previous = source.get("previousWriterArn")
        if not previous:
            return Started("kept:none", {"note": "no old writer recorded: nothing to re-attach"})
        return Started(
            f"replicate:{source['globalClusterIdentifier']}",
            {
                "globalClusterIdentifier": source["globalClusterIdentifier"],
                "targetClusterArn": source.get("targetClusterArn"),
                "oldWriterArn": previous,
            },
        )

    # --- status ------------------------------------------------------------------------------------

    def status(self, ctx: ResourceContext) -> Progress:
        detail = ctx.detail
        operation_id = ctx.operation_id or ""
        if operation_id.startswith(("kept:", "drill:")):
            return Progress(OK)
        identifier = str(detail["globalClusterIdentifier"])
        target = str(detail["targetClusterArn"])
        view = self._global(ctx, _region_of(target), identifier)
        if ctx.phase == "activate":
            return self._writer_available(ctx, view, target)
        if ctx.phase == "replicate":
            old = str(detail["oldWriterArn"])
            if old in view.members and view.writer != old:
                return Progress(OK, {"note": f"{old} replicates as a secondary of {identifier}"})
            return Progress(
                KO,
                error=f"{old} is no longer attached to global cluster {identifier}: add a new secondary cluster in "
                f"{_region_of(old)} to it",
            )
        if view.failover:
            return Progress(IP, {"failoverStatus": view.failover.get("Status")})
        if view.writer == target:
            return Progress(OK, {"writerArn": target})
        return Progress(KO, error=f"the writer of {identifier} is {view.writer}, not {target}; nothing moves it")

    def _writer_available(self, ctx: ResourceContext, view: GlobalView, target: str) -> Progress:
        if view.failover:
            return Progress(IP, {"failoverStatus": view.failover.get("Status")})
        if view.writer != target:
            return Progress(KO, error=f"{target} is not the writer of {view.identifier} (writer: {view.writer})")
        rds = self._rds(ctx, _region_of(target))
        answer = aws_value(lambda: rds.describe_db_clusters(DBClusterIdentifier=target), "rds.describe_db_clusters")
        clusters = answer.get("DBClusters") or []
        status = clusters[0].get("Status") if clusters else None
        if status == "available":
            return Progress(OK, {"writerArn": target, "clusterStatus": status})
        return Progress(IP, {"clusterStatus": status})
