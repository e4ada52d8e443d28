"""Aurora global database switchover and failover, which moto 5.2.5 lacks.

``FailoverGlobalCluster`` / ``SwitchoverGlobalCluster`` mutate moto's own RDS state, so that
``describe_global_clusters`` (served by moto) shows the change. Like AWS, the change takes time:
the global cluster reports ``FailoverState.Status`` ``pending`` for one step, then
``failing-over`` for one more, and then the target is the writer, the old writer a reader, and
the ``FailoverState`` is gone. Time is evaluated lazily by :meth:`AuroraGlobal.advance`, called
before every RDS request. ``DescribeGlobalClusters`` is answered here too, because moto ignores its
``GlobalClusterIdentifier`` (it always lists every global cluster).

A switchover (anything but ``AllowDataLoss``) needs the primary: while an outage rule covers RDS in
the current writer's Region it answers 503 ``ServiceUnavailable`` whichever Region it was sent to. A
failover with ``AllowDataLoss`` goes around the primary and succeeds. Which Region a call reaches is
the Region it is signed for (the outage rules' match); the global cluster's state is one, as in AWS
(moto keeps it in us-east-1's backend whatever the Region of the call, see ``GLOBAL_REGION``).

Errors are AWS query-protocol XML: ``GlobalClusterNotFoundFault`` (404), ``DBClusterNotFoundFault``
(404), ``InvalidGlobalClusterStateFault`` (400, an operation is already in progress),
``InvalidParameterValue`` (400, the target already is the writer),
``InvalidParameterCombination`` (400, ``AllowDataLoss`` together with ``Switchover``),
``ServiceUnavailable`` (503, a switchover while the primary's Region is out).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from deploy.localaws.awscall import AwsCall
from deploy.localaws.errors import AwsError

RegionOut = Callable[[str, str], bool]  # (service, region) -> whether an outage covers it

GLOBAL_REGION = "us-east-1"  # where moto keeps global clusters (as its RDSResponse.global_backend does)
OPERATIONS = frozenset({"FailoverGlobalCluster", "SwitchoverGlobalCluster", "DescribeGlobalClusters"})


@dataclass
class _Operation:
    account_id: str
    identifier: str
    started_at: float
    step: float
    source_arn: str
    target_arn: str


def _rds_backend(account_id: str) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[account_id][GLOBAL_REGION]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


class AuroraGlobal:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._operations: dict[tuple[str, str], _Operation] = {}
        self.completed: list[dict[str, Any]] = []

    def reset(self) -> None:
        with self._lock:
            self._operations.clear()
            self.completed.clear()

    def pending(self) -> list[_Operation]:
        with self._lock:
            return list(self._operations.values())

    # -- time ------------------------------------------------------------------------------------

    def advance(self, account_id: str) -> None:
        """Move in-progress operations of ``account_id`` along; repair moto's missing writer flag."""
        with self._lock:
            backend = _rds_backend(account_id)
            now = self.clock()
            for key, op in list(self._operations.items()):
                if op.account_id != account_id:
                    continue
                cluster = backend.global_clusters.get(op.identifier)
                if cluster is None:  # deleted meanwhile
                    del self._operations[key]
                    continue
                elapsed = now - op.started_at
                if elapsed >= 2 * op.step:
                    for member in cluster.members:
                        member.is_writer = member.db_cluster_arn == op.target_arn
                    cluster.failover_state = None
                    cluster.status = "available"
                    del self._operations[key]
                    self.completed.append(
                        {
                            "globalClusterIdentifier": op.identifier,
                            "accountId": op.account_id,
                            "targetArn": op.target_arn,
                            "completedAt": op.started_at + 2 * op.step,
                        }
                    )
                elif elapsed >= op.step and cluster.failover_state:
                    cluster.failover_state = {**cluster.failover_state, "Status": "failing-over"}
            for identifier, cluster in backend.global_clusters.items():
                # moto's create_global_cluster(SourceDBClusterIdentifier=…) adds the source cluster
                # without marking it writer; in AWS it is the primary.
                busy = (account_id, identifier.lower()) in self._operations
                if cluster.members and not busy and not any(m.is_writer for m in cluster.members):
                    cluster.members[0].is_writer = True

    # -- operations ------------------------------------------------------------------------------

    def handle(
        self, call: AwsCall, account_id: str, step: float, region_out: RegionOut = lambda service, region: False
    ) -> Response:
        with self._lock:
            self.advance(account_id)
            if call.operation == "DescribeGlobalClusters":
                return self._describe(call, account_id)
            return self._fail_over(call, account_id, step, region_out)

    def _find(self, account_id: str, identifier: str | None) -> Any:
        backend = _rds_backend(account_id)
        if identifier:
            for cluster in backend.global_clusters.values():
                if identifier.lower() in (
                    cluster.global_cluster_identifier,
                    cluster.global_cluster_arn.lower(),
                ):
                    return cluster
        raise AwsError("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.", 404)

    def _describe(self, call: AwsCall, account_id: str) -> Response:
        identifier = call.param("GlobalClusterIdentifier")
        if identifier:
            clusters = [self._find(account_id, identifier)]
        else:
            clusters = list(_rds_backend(account_id).global_clusters.values())
        return _serialize(call.operation, {"GlobalClusters": clusters})

    def _fail_over(self, call: AwsCall, account_id: str, step: float, region_out: RegionOut) -> Response:
        identifier = call.param("GlobalClusterIdentifier")
        target_id = call.param("TargetDbClusterIdentifier")
        for name, value in (
            ("GlobalClusterIdentifier", identifier),
            ("TargetDbClusterIdentifier", target_id),
        ):
            if not value:
                raise AwsError("MissingParameter", f"The request must contain the parameter {name}", 400)
        allow_data_loss = _truthy(call.param("AllowDataLoss"))
        if allow_data_loss and _truthy(call.param("Switchover")):
            raise AwsError(
                "InvalidParameterCombination", "Specify either AllowDataLoss or Switchover, not both."
            )
        cluster = self._find(account_id, identifier)
        target = next(
            (
                m
                for m in cluster.members
                if str(target_id).lower() in (m.db_cluster_arn.lower(), m.db_cluster_identifier)
            ),
            None,
        )
        if target is None:
            raise AwsError(
                "DBClusterNotFoundFault",
                f"DBCluster {target_id} is not a member of global cluster "
                f"{cluster.global_cluster_identifier}.",
                404,
            )
        key = (account_id, cluster.global_cluster_identifier)
        if key in self._operations:
            raise AwsError(
                "InvalidGlobalClusterStateFault",
                f"Global cluster {cluster.global_cluster_identifier} is already switching over "
                "or failing over.",
            )
        writer = next((m for m in cluster.members if m.is_writer), None)
        if target.is_writer:
            raise AwsError(
                "InvalidParameterValue",
                f"DBCluster {target.db_cluster_arn} is already the primary cluster of global cluster "
                f"{cluster.global_cluster_identifier}.",
            )
        source_arn = writer.db_cluster_arn if writer is not None else ""
        primary_region = source_arn.split(":")[3] if source_arn.count(":") >= 5 else ""
        if not allow_data_loss and primary_region and region_out("rds", primary_region):
            raise AwsError(
                "ServiceUnavailable",
                f"The primary cluster {source_arn} in {primary_region} is unreachable: a switchover needs it.",
                503,
                sender=False,
            )
        cluster.failover_state = {
            "Status": "pending",
            "FromDbClusterArn": source_arn,
            "ToDbClusterArn": target.db_cluster_arn,
            "IsDataLossAllowed": allow_data_loss,
        }
        cluster.status = "failing-over" if allow_data_loss else "switching-over"
        self._operations[key] = _Operation(
            account_id,
            cluster.global_cluster_identifier,
            self.clock(),
            step,
            source_arn,
            target.db_cluster_arn,
        )
        self.advance(account_id)  # a zero step completes at once
        return _serialize(call.operation, {"GlobalCluster": cluster})


def _serialize(operation: str, result: dict[str, Any]) -> Response:
    """Serialize with moto's own query serializer, so the XML is exactly what moto would send."""
    from moto.core.serialize import QuerySerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    operation_model = get_service_model("rds").operation_model(operation)
    serializer = QuerySerializer(operation_model=operation_model, value_picker=XFormedAttributePicker())
    serialized = serializer.serialize(result)
    return Response(
        serialized["body"],
        status=serialized["status_code"],
        headers=serialized["headers"],
        content_type="text/xml",
    )
