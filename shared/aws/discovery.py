"""Discovery of DR resources through boto3: which tagged resources one account has in one region.

docs/architecture.md, "Resolving": the Resource Groups Tagging API (``get_resources`` with
``TagFilters``, paginated) lists RDS clusters, ECS services and Lambda functions of the region, and
Route 53 health checks and hosted zones (global: the Tagging API lists them in ``us-east-1``); DRS
source servers are not covered by that API, so ``drs.describe_source_servers`` (paginated, tags in
the response) is filtered here.

What counts as "discovered": every resource carrying the ``dr:enabled`` key (whatever its value, so
``dr:enabled=false`` and typos are seen and :func:`shared.domain.tags.evaluate` decides) whose tags
equal every wanted scope tag (``Customer=ABCD``, exact, as ``TagFilters`` match). The same rule is
applied to both sources by :func:`matches`, so the Tagging API and DRS agree.

Another account is reached through the injected :class:`~shared.aws.sessions.SessionFactory` with the
target account's role (``AssumeRole`` with its external id); nothing here knows about the database.
Every AWS failure surfaces as :class:`DiscoveryError`, sorted by :func:`shared.aws.errors.classify`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws.errors import classify, describe, error_code
from shared.aws.sessions import SessionFactory
from shared.domain.tags import TAG_ENABLED

REGIONAL_RESOURCE_TYPES: tuple[str, ...] = ("rds:cluster", "ecs:service", "lambda:function")
"""Resource types the Tagging API lists per region."""
GLOBAL_RESOURCE_TYPES: tuple[str, ...] = ("route53:healthcheck", "route53:hostedzone")
"""Global resource types; the Tagging API lists them in :data:`GLOBAL_REGION`."""
GLOBAL_REGION = "us-east-1"
TAGGING_PAGE_SIZE = 100  # ResourcesPerPage maximum
DRS_PAGE_SIZE = 200
DRS_NOT_IN_USE_CODES = frozenset({"UninitializedAccountException"})
"""DRS answers these in a region where it was never initialised: no source servers, not a failure."""


@dataclass(frozen=True)
class AccountAccess:
    """How to reach an account: the base session (no role) or an assumed role of a target account."""

    account_id: str | None = None
    role_arn: str | None = None
    external_id: str | None = None

    def client(self, sessions: SessionFactory, service: str, region: str) -> Any:
        """A boto3 client of `service` in `region` for this account (its role assumed when it has one)."""
        return sessions.client(
            service,
            region=region,
            account_id=self.account_id if self.role_arn else None,
            role_arn=self.role_arn,
            external_id=self.external_id,
        )


@dataclass(frozen=True)
class DiscoveredResource:
    """One resource as AWS reports it: ARN, tags, where it was found and by which API."""

    arn: str
    tags: Mapping[str, str] = field(default_factory=dict)
    region: str = ""
    source: str = "tagging"  # "tagging" | "drs"


class DiscoveryError(Exception):
    """AWS could not be asked (access denied, throttled after retries, endpoint down, …)."""

    def __init__(self, message: str, *, retryable: bool, code: str | None, region: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code
        self.region = region


def tag_filters(wanted: Mapping[str, str] | None) -> list[dict[str, Any]]:
    """``TagFilters`` for ``get_resources``: the enrolment key (any value) plus each wanted tag exactly."""
    filters: list[dict[str, Any]] = [{"Key": TAG_ENABLED}]
    for key, value in sorted((wanted or {}).items()):
        if key == TAG_ENABLED:
            filters[0] = {"Key": key, "Values": [value]}
        else:
            filters.append({"Key": key, "Values": [value]})
    return filters


def matches(tags: Mapping[str, str], wanted: Mapping[str, str] | None) -> bool:
    """Whether a resource is discovered: it has the ``dr:enabled`` key and every wanted tag, exactly."""
    return TAG_ENABLED in tags and all(tags.get(key) == value for key, value in (wanted or {}).items())


def tags_from_list(items: list[dict[str, Any]] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}]`` (the Tagging API's shape) as a dict."""
    return {str(item["Key"]): str(item.get("Value", "")) for item in items or [] if "Key" in item}


class Discovery:
    """Discovers DR resources of one account + region; built once per process with the session factory."""

    def __init__(self, sessions: SessionFactory, *, global_region: str = GLOBAL_REGION) -> None:
        self.sessions = sessions
        self.global_region = global_region

    def resources(
        self,
        access: AccountAccess,
        region: str,
        tags: Mapping[str, str] | None = None,
        *,
        include_global: bool = True,
    ) -> list[DiscoveredResource]:
        """The resources of ``region`` (plus global Route 53 ones) that :func:`matches` ``tags``, by ARN."""
        found: dict[str, DiscoveredResource] = {}
        sources: list[Iterator[DiscoveredResource]] = [self._tagged(access, region, REGIONAL_RESOURCE_TYPES, tags)]
        if include_global:
            sources.append(self._tagged(access, self.global_region, GLOBAL_RESOURCE_TYPES, tags))
        sources.append(self._source_servers(access, region, tags))
        for source in sources:
            for resource in source:
                found.setdefault(resource.arn, resource)
        return [found[arn] for arn in sorted(found)]

    def caller_identity(self, access: AccountAccess) -> tuple[str, str]:
        """``(account id, ARN)`` the credentials of ``access`` act as (``sts.get_caller_identity``);
        for a role this is where a wrong role or external id shows (the role is assumed first)."""
        sts = self._client("sts", access, self.sessions.default_region)
        identity = self._call(lambda: sts.get_caller_identity(), self.sessions.default_region)
        return str(identity["Account"]), str(identity["Arn"])

    # --- sources -------------------------------------------------------------------------------

    def _tagged(
        self, access: AccountAccess, region: str, types: tuple[str, ...], wanted: Mapping[str, str] | None
    ) -> Iterator[DiscoveredResource]:
        client = self._client("resourcegroupstaggingapi", access, region)
        pages = client.get_paginator("get_resources").paginate(
            TagFilters=tag_filters(wanted), ResourceTypeFilters=list(types), ResourcesPerPage=TAGGING_PAGE_SIZE
        )
        for page in self._pages(pages, region):
            for item in page.get("ResourceTagMappingList", []):
                tags = tags_from_list(item.get("Tags"))
                if matches(tags, wanted):
                    yield DiscoveredResource(arn=item["ResourceARN"], tags=tags, region=region, source="tagging")

    def _source_servers(
        self, access: AccountAccess, region: str, wanted: Mapping[str, str] | None
    ) -> Iterator[DiscoveredResource]:
        client = self._client("drs", access, region)
        pages = client.get_paginator("describe_source_servers").paginate(
            filters={}, PaginationConfig={"PageSize": DRS_PAGE_SIZE}
        )
        try:
            for page in self._pages(pages, region):
                for server in page.get("items", []):
                    tags = {str(k): str(v) for k, v in (server.get("tags") or {}).items()}
                    if matches(tags, wanted):
                        yield DiscoveredResource(arn=server["arn"], tags=tags, region=region, source="drs")
        except DiscoveryError as error:
            if error.code not in DRS_NOT_IN_USE_CODES:
                raise

    # --- plumbing ------------------------------------------------------------------------------

    def _client(self, service: str, access: AccountAccess, region: str) -> Any:
        return access.client(self.sessions, service, region)

    def _pages(self, pages: Any, region: str) -> Iterator[dict[str, Any]]:
        iterator = iter(pages)
        while True:
            page = self._call(lambda: next(iterator, None), region)
            if page is None:
                return
            yield page

    @staticmethod
    def _call(call: Any, region: str) -> Any:
        try:
            return call()
        except (ClientError, BotoCoreError) as error:
            retryable = classify(error, "read").retryable
            raise DiscoveryError(
                f"{describe(error)} in {region}", retryable=retryable, code=error_code(error), region=region
            ) from error
