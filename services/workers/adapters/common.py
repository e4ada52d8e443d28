"""What the five AWS adapters share: clients from the injected session factory, one wrapper that turns a
boto3 call's error into the adapter protocol (via :func:`shared.aws.errors.classify`), pagination.

Where a resource lives comes from its ARN (region, account) or, for global services whose ARNs carry
neither (Route 53), from the resource run's ``detail`` (``accountId``) and the partition's home region.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws.errors import ErrorClass, classify, describe
from shared.aws.sessions import SessionFactory
from shared.domain.arns import Arn, InvalidArn

from .base import Adapter, BatchContext, Failed, RegionUnreachable, ResourceContext, RetryLater, Started

T = TypeVar("T")
NOT_APPLICABLE = "n/a:"  # the operation id of a phase that has nothing to do for the technology


class DoneAlready:
    """What :func:`aws` returns when the call failed but the world already is as asked."""

    def __repr__(self) -> str:
        return "DONE_ALREADY"


DONE_ALREADY = DoneAlready()

GLOBAL_REGIONS = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-northwest-1"}
"""Where a partition's global services (Route 53) are called."""


def aws(
    call: Callable[[], T],
    what: str,
    *,
    kind: str = "change",
    done_already: Iterable[str] = (),
) -> T | DoneAlready:
    """Run one boto3 call (botocore has already retried it); sort its error once.

    Returns the call's result, or :data:`DONE_ALREADY`; raises :class:`RetryLater` for retryable errors
    (:class:`RegionUnreachable` when the endpoint did not answer) and :class:`Failed` for fatal ones, all
    with ``what`` and the AWS error in the message.
    """
    try:
        return call()
    except (ClientError, BotoCoreError) as error:
        sorted_as = classify(error, kind, done_already_codes=done_already)
        if sorted_as is ErrorClass.DONE_ALREADY:
            return DONE_ALREADY
        if sorted_as is ErrorClass.REGION_UNREACHABLE:
            raise RegionUnreachable(f"{what}: {describe(error)}") from error
        if sorted_as is ErrorClass.RETRYABLE:
            raise RetryLater(f"{what}: {describe(error)}") from error
        raise Failed(f"{what}: {describe(error)}") from error


def aws_value(call: Callable[[], T], what: str, *, kind: str = "read") -> T:
    """:func:`aws` for calls that must answer (reads): done-already is not an answer."""
    result = aws(call, what, kind=kind)
    if isinstance(result, DoneAlready):  # pragma: no cover - no done-already codes given
        raise Failed(f"{what}: no answer")
    return result


def pages(client: Any, operation: str, what: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a paginated read, each page fetched through :func:`aws`."""
    iterator = iter(client.get_paginator(operation).paginate(**kwargs))
    while True:
        page = aws_value(lambda: next(iterator, None), what)
        if page is None:
            return
        yield page


def parse_arn(arn: str) -> Arn:
    try:
        return Arn.parse(arn)
    except InvalidArn as error:
        raise Failed(str(error)) from error


class AwsAdapter(Adapter):
    """Base of the AWS adapters: built by the registry with the worker's one session factory."""

    service: ClassVar[str]

    def __init__(self, sessions: SessionFactory, settings: Any = None, **_: Any) -> None:
        self.sessions = sessions
        self.settings = settings

    def client(
        self,
        where: ResourceContext | BatchContext,
        region: str | None,
        service: str | None = None,
        account_id: str | None = None,
        read_timeout: float | None = None,
    ) -> Any:
        """A client for ``service`` (default: the adapter's) in ``region``, as the resource's account.

        With the target account's role (``where.role_arn``) the client assumes it; the account id is
        checked against the role's. Without a role the worker's own credentials are used.
        ``read_timeout``: see :meth:`shared.aws.sessions.SessionFactory.client`.
        """
        if not region:
            raise Failed(f"no region to call {service or self.service} in")
        role = where.role_arn
        return self.sessions.client(
            service or self.service,
            region=region,
            account_id=account_id if role else None,
            role_arn=role,
            external_id=where.external_id if role else None,
            read_timeout=read_timeout,
        )

    @staticmethod
    def not_applicable(ctx: ResourceContext, why: str) -> Started:
        """A phase that has nothing to do for this technology: started and, at once, done (:func:`done_at_start`)."""
        return Started(f"{NOT_APPLICABLE}{ctx.arn}", {"notApplicable": True, "note": why, "phase": ctx.phase})


def done_at_start(ctx: ResourceContext, *also: str) -> bool:
    """Whether the run's operation was over as it started: a phase with nothing to do (``n/a:``), a result
    that is kept (``kept:``), or an adapter's own such operation ids (the prefixes ``also``)."""
    return (ctx.operation_id or "").startswith(("kept:", NOT_APPLICABLE, *also))
