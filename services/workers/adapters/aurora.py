"""The `aurora` adapter: an Aurora global database, moved to its DR-region cluster.

The resource is the DR-region (secondary) cluster (``arn:aws:rds:<dr region>:<account>:cluster:<id>``) or
the global cluster (``…:global-cluster:<id>``, whose single secondary is then the target; or the
``targetClusterArn`` of the run's detail). Every call goes to the target's region: in a real disaster
the primary region may not answer.

| phase | drill | recovery |
|---|---|---|
| instantiate | ``switchover_global_cluster`` (planned, no data loss) | by the execution's ``failover`` (below) |
| activate | the DR cluster is the writer and ``available`` | same |
| cleanup | switch back over to the writer recorded before the drill | nothing: a recovery's failover is kept |
| replicate | not applied in a drill | the old writer is attached again as a secondary |

A recovery moves the writer as the execution says (``shared.domain.failover``): ``graceful`` switches
over, ``ungraceful`` fails over with ``AllowDataLoss``, ``auto`` switches over unless the primary Region
does not answer, then fails over when ``allowDataLoss`` allows it, else fails with
``DATA_LOSS_APPROVAL_REQUIRED`` (the scheduler asks for that approval). A switchover needs the primary:
before one, the current writer is read in its own Region, and a Region that does not answer
(:class:`RegionUnreachable`, after botocore's retries) decides. A failover is sent to the target's
Region, so it goes through while the primary is down. The choice is the started run's ``decision``.

Status comes from ``describe_global_clusters``: done when its ``FailoverState`` is gone and the target
is the writer. A redelivered start finds the operation in progress (``FailoverState`` to our target) or
already done, and does not start another.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from shared.domain.failover import (
    DATA_LOSS_APPROVAL_REQUIRED,
    Failover,
    WriterMove,
    approval_reason,
    fails_over_when_primary_unreachable,
    first_move,
    graceful_refusal,
)

from .base import Failed, Outcome, Progress, RegionUnreachable, ResourceContext, RetryLater, Started
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
        if ctx.is_drill:
            return self._switch_over_or_refuse(ctx, identifier, target, {"drill": True})
        failover = Failover(ctx.failover)
        chosen = {"drill": False, "failover": failover.value, "allowDataLoss": ctx.allow_data_loss}
        if first_move(failover) is WriterMove.FAILOVER:
            started = self._move_writer(ctx, identifier, target, WriterMove.FAILOVER, chosen)
            return replace(started, decision="failover with data loss chosen (failover 'ungraceful')")
        if not fails_over_when_primary_unreachable(failover, ctx.allow_data_loss):
            return self._switch_over_or_refuse(ctx, identifier, target, chosen)
        try:
            started = self._move_writer(ctx, identifier, target, WriterMove.SWITCHOVER, chosen)
        except RegionUnreachable as error:
            if error.region is None:  # not the primary: the target's own Region, wait for it
                raise
            approver = ctx.data_loss_approved_by
            approved = f"approved by {approver}" if approver else "allowDataLoss"
            started = self._move_writer(
                ctx, identifier, target, WriterMove.FAILOVER, {**chosen, "primaryUnreachable": str(error)}
            )
            return replace(
                started,
                decision=f"primary Region {error.region} unreachable for {ctx.arn}: failing over with data loss "
                f"({approved})",
            )
        return replace(started, decision=f"switchover chosen (failover '{failover.value}'): no data loss")

    def _switch_over_or_refuse(
        self, ctx: ResourceContext, identifier: str, target: str, extra: dict[str, Any]
    ) -> Started:
        """A switchover; an unreachable primary fails the run: with ``DATA_LOSS_APPROVAL_REQUIRED`` when a
        data loss approval would let an ``auto`` recovery fail over, else with the reason."""
        try:
            started = self._move_writer(ctx, identifier, target, WriterMove.SWITCHOVER, extra)
        except RegionUnreachable as error:
            if error.region is None:  # not the primary: the target's own Region, wait for it
                raise
            if not ctx.is_drill and Failover(ctx.failover) is Failover.AUTO:
                raise Failed(approval_reason(error.region, ctx.arn), code=DATA_LOSS_APPROVAL_REQUIRED) from error
            raise Failed(f"{graceful_refusal(error.region, ctx.arn, drill=ctx.is_drill)} ({error})") from error
        if ctx.is_drill:
            return started
        return replace(started, decision=f"switchover chosen (failover '{extra['failover']}'): no data loss")

    def _move_writer(
        self, ctx: ResourceContext, identifier: str, target: str, move: WriterMove, extra: dict[str, Any]
    ) -> Started:
        """Move the writer of ``identifier`` to ``target`` once: a move already under way to it, or done, is
        found instead of started again. A switchover first reads the writer in its own Region and raises
        :class:`RegionUnreachable` with that Region (the primary) when it, or the switchover, gets no answer."""
        region = _region_of(target)
        view = self._global(ctx, region, identifier)
        detail = {
            "globalClusterIdentifier": identifier,
            "targetClusterArn": target,
            "operation": move.value,
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
        what = f"rds.{move.value}_global_cluster {identifier} to {target}"
        if move is WriterMove.SWITCHOVER:
            primary = _region_of(view.writer) if view.writer else region
            try:
                if view.writer:
                    self._reach_writer(ctx, view.writer)
                aws(
                    lambda: rds.switchover_global_cluster(
                        GlobalClusterIdentifier=identifier, TargetDbClusterIdentifier=target
                    ),
                    what,
                    done_already=ALREADY_WRITER,
                )
            except RegionUnreachable as error:
                raise RegionUnreachable(str(error), error.after, region=primary) from error
        else:
            aws(
                lambda: rds.failover_global_cluster(
                    GlobalClusterIdentifier=identifier, TargetDbClusterIdentifier=target, AllowDataLoss=True
                ),
                what,
                done_already=ALREADY_WRITER,
            )
        return Started(operation_id, {**detail, "previousWriterArn": view.writer})

    def _reach_writer(self, ctx: ResourceContext, writer: str) -> None:
        """Read the writer cluster in its own Region: what a switchover needs to answer."""
        rds = self._rds(ctx, _region_of(writer))
        aws_value(lambda: rds.describe_db_clusters(DBClusterIdentifier=writer), f"rds.describe_db_clusters {writer}")

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
            ctx, identifier, str(previous), WriterMove.SWITCHOVER, {"revertOf": source.get("targetClusterArn")}
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
