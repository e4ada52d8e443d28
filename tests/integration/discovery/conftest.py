"""The demo estate on the session's local AWS (`local_aws` in tests/conftest.py), reached the way
production reaches AWS: boto3's standard settings (``AWS_ENDPOINT_URL``, static test credentials)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from deploy.localaws.seed import load_estate

PRIMARY, DR = "us-east-1", "us-west-2"


@pytest.fixture(scope="module")
def estate(local_aws: str) -> dict[str, Any]:
    """The demo estate, loaded into a reset local AWS once per module (its summary: arns, tags, …)."""
    return load_estate(local_aws, reset=True)


@pytest.fixture(scope="module")
def arn_of(estate: dict[str, Any]) -> Callable[[str], str]:
    """``arn_of("abcd-prod-db-01")``: the ARN the seed gave a named resource."""
    by_name = {resource["name"]: resource["arn"] for resource in estate["resources"]}
    return by_name.__getitem__


@pytest.fixture(scope="module")
def aws(local_aws: str) -> Callable[..., Any]:
    """``aws("rds", region=DR)``: a boto3 client as an operator of the default account would use."""
    return lambda service, region=DR, **kwargs: boto3.client(service, region_name=region, **kwargs)
