"""The global database the Aurora tests recover: ``orders``, writer ``orders-use1`` in us-east-1 and
secondary ``orders-usw2`` in us-west-2 (the resource a plan names)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PRIMARY, DR = "us-east-1", "us-west-2"


def make_orders(aws: Callable[..., Any]) -> dict[str, str]:
    """Create the global database on the local AWS; the ARNs of its ``primary`` and ``secondary``."""
    aws("rds", PRIMARY).create_global_cluster(GlobalClusterIdentifier="orders", Engine="aurora-postgresql")
    primary = aws("rds", PRIMARY).create_db_cluster(
        DBClusterIdentifier="orders-use1",
        Engine="aurora-postgresql",
        GlobalClusterIdentifier="orders",
        MasterUsername="drwave",
        MasterUserPassword="localaws-password",
    )["DBCluster"]["DBClusterArn"]
    secondary = aws("rds", DR).create_db_cluster(
        DBClusterIdentifier="orders-usw2", Engine="aurora-postgresql", GlobalClusterIdentifier="orders"
    )["DBCluster"]["DBClusterArn"]
    return {"primary": primary, "secondary": secondary}


def writer(aws: Callable[..., Any]) -> str:
    """The ARN of the global database's writer now."""
    (cluster,) = aws("rds", DR).describe_global_clusters(GlobalClusterIdentifier="orders")["GlobalClusters"]
    return next(m["DBClusterArn"] for m in cluster["GlobalClusterMembers"] if m["IsWriter"])
