"""A local AWS for the whole session, reached by the API the way production reaches AWS: boto3's
standard settings (``AWS_ENDPOINT_URL``, static test credentials) in ``os.environ``.

Only the in-process Flask app sees it: the scheduler and worker processes of ``tests/conftest.py``
got their environment when they were spawned. Tests here therefore assert what the API resolves and
stores (waves, resource runs, their order), not what a worker's adapter did with a real ARN.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from deploy.localaws import LocalAws
from deploy.localaws.seed import load_estate

PRIMARY, DR = "us-east-1", "us-west-2"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": PRIMARY,
}


@pytest.fixture(scope="session")
def local_aws() -> Iterator[str]:
    """The endpoint URL of a local AWS, exported through boto3's standard environment variables."""
    aws = LocalAws(port=0).start()
    names = [*AWS_ENV, "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_PROFILE"]
    saved = {name: os.environ.get(name) for name in names}
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update({**AWS_ENV, "AWS_ENDPOINT_URL": aws.endpoint_url})
    try:
        yield aws.endpoint_url
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        aws.stop()


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
