"""Which Region names exist: botocore's endpoint data (every partition), plus names a deployment adds
(a local AWS emulator's, say) through ``DRWAVE_EXTRA_REGIONS``. A made-up name is refused when it is
sent, not when an AWS client is built for it later."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache

import botocore.loaders


@cache
def aws_regions() -> frozenset[str]:
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    return frozenset(region for partition in endpoints["partitions"] for region in partition["regions"])


def is_region(name: str, extra: Collection[str] = ()) -> bool:
    return name in aws_regions() or name in extra
