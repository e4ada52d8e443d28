"""Field types several request schemas share: account ids and AWS Region names (checked against
botocore's list plus DRWAVE_EXTRA_REGIONS, so a made-up Region is a 400 when it is sent)."""

from __future__ import annotations

from typing import Annotated

from flask import current_app, has_app_context
from pydantic import AfterValidator, Field

from shared.aws.regions import is_region

REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"
ACCOUNT_ID = r"^\d{12}$"
EXTRA_REGIONS_CONFIG = "DRWAVE_EXTRA_REGIONS"  # app.config key: the API's settings.extra_regions


def extra_regions() -> list[str]:
    return current_app.config.get(EXTRA_REGIONS_CONFIG, []) if has_app_context() else []


def check_region(name: str) -> str:
    if not is_region(name, extra_regions()):
        raise ValueError(f"{name[:40]!r} is not an AWS Region (such as us-east-1); DRWAVE_EXTRA_REGIONS adds names")
    return name


Region = Annotated[str, Field(pattern=REGION, max_length=40), AfterValidator(check_region)]
