"""Domain errors: the rule a request broke, in the domain's words, with no HTTP in sight.

The service layer raises them; the API maps each kind to a status and an error code in one table
(``services/api/errors.py``). Each carries the one-line ``message`` a chat bot can post as is and
``details`` that name the field or the other party (an execution id, a current status).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Self


class DomainError(Exception):
    def __init__(self, message: str, /, *, about: str | None = None, **details: Any) -> None:
        """``about``: the request field the error is about; the message then starts with it (``planId: ...``)
        and ``details`` name it."""
        if about:
            message, details = f"{about}: {message}", {"field": about, **details}
        super().__init__(message)
        self.message = message
        self.details = details

    def within(self, prefix: str, **details: Any) -> Self:
        """The same error said about a part of something larger (``group pg-1: ...``)."""
        error = copy.copy(self)
        error.message = f"{prefix}{self.message}"
        error.details = {**self.details, **details}
        error.args = (error.message,)
        return error


# --- not found ---------------------------------------------------------------------------------


class NotFound(DomainError):
    """Something a request names does not exist."""


class ExecutionNotFound(NotFound):
    def __init__(self, execution_id: str, *, field: str | None = None) -> None:
        super().__init__(f"no execution {execution_id!r}", about=field)


class PlanNotFound(NotFound):
    def __init__(self, plan_id: str, *, field: str | None = None) -> None:
        super().__init__(f"no recovery plan {plan_id!r}", about=field)


class MissingProtectionGroup(DomainError):
    """A plan's wave names a protection group that does not exist (the plan is wrong, not the URL)."""

    def __init__(self, where: str, group_id: str, *, field: str | None = None) -> None:
        super().__init__(f"{where}: no protection group {group_id!r}", **({"field": field} if field else {}))


class InvalidWaveAction(DomainError):
    """A wave's pre- or post-action cannot run as given (the field says which)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem, about=field)


# --- execution control ---------------------------------------------------------------------------


class ExecutionStateConflict(DomainError):
    """A control action the execution's current status does not allow."""

    action = ""

    def __init__(self, execution_id: str, status: str) -> None:
        super().__init__(f"cannot {self.action} {execution_id}: it is {status}", status=status)
        self.status = status


class ExecutionNotRunning(ExecutionStateConflict):
    action = "pause"


class ExecutionNotPaused(ExecutionStateConflict):
    action = "resume"


class ExecutionNotCancellable(ExecutionStateConflict):
    action = "cancel"


class ExecutionNotRetryable(ExecutionStateConflict):
    """Only a PAUSED, COMPLETED_WITH_FAILURES or FAILED execution can be retried."""

    action = "retry"


class SkipNeedsPause(ExecutionNotPaused):
    """A failed resource is skipped only while its execution is PAUSED (409 EXECUTION_NOT_PAUSED)."""

    action = "skip a resource of"


class NothingToRetry(DomainError):
    def __init__(self, execution_id: str) -> None:
        super().__init__(f"{execution_id} has no FAILED or TIMED_OUT resource run to retry")


class ResourceNotInExecution(NotFound):
    """A request names an ARN the execution has no resource run for."""

    def __init__(self, execution_id: str, arns: list[str], *, field: str) -> None:
        more = f" (and {len(arns) - 1} more)" if len(arns) > 1 else ""
        super().__init__(f"{execution_id} has no resource {arns[0]!r}{more}", about=field, arns=arns)


class ResourceNotFailed(DomainError):
    """Retry and skip act on FAILED or TIMED_OUT resource runs only."""

    def __init__(self, arn: str, status: str, *, field: str) -> None:
        super().__init__(f"{arn} is {status}, not FAILED or TIMED_OUT", about=field, arn=arn, status=status)


# --- starting an execution -----------------------------------------------------------------------


class PlanAlreadyExecuting(DomainError):
    def __init__(self, plan_id: str, other: str | None) -> None:
        super().__init__(f"plan {plan_id} is already executing as {other}", executionId=other)
        self.other = other


class ResourceInActiveExecution(DomainError):
    """A resource of the start is held by another active execution (at most one holds each)."""

    def __init__(self, taken: Mapping[str, str]) -> None:
        arn, other = next(iter(sorted(taken.items())))
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        super().__init__(
            f"{arn} is already being recovered by active execution {other}{more}",
            arn=arn,
            executionId=other,
            conflicts=[{"arn": a, "executionId": e} for a, e in sorted(taken.items())],
        )


class VersionConflict(DomainError):
    """What a request was based on changed meanwhile; read it again and retry."""


class InvalidResources(DomainError):
    def __init__(self, invalid: list[dict[str, Any]]) -> None:
        super().__init__(
            f"{len(invalid)} resource(s) cannot be recovered, e.g. {invalid[0]['problem']}; "
            f"fix them or send skipInvalid: true",
            invalid=invalid,
        )


class NoResources(DomainError):
    """A start would recover nothing."""


class SourceExecutionRequired(DomainError):
    def __init__(self, phase: str) -> None:
        super().__init__(f"phase {phase} follows an earlier execution; name it", about="sourceExecutionId")


class SourceExecutionMismatch(DomainError):
    def __init__(self, source_id: str, source_plan: str, plan_id: str) -> None:
        super().__init__(f"{source_id} ran plan {source_plan}, not {plan_id}", about="sourceExecutionId")


# --- resolving selections ------------------------------------------------------------------------


class RegionNotEnabled(DomainError):
    """The selection's region is not one of its target account's regions."""


class AccountNotRegistered(DomainError):
    """The selection's account is neither a registered target account nor drwave's own."""


class AwsUnavailable(DomainError):
    """AWS did not answer; waiting may help."""


class AwsRefused(DomainError):
    """AWS answered with an error that waiting will not fix."""


# --- reading -------------------------------------------------------------------------------------


class InvalidCursor(DomainError):
    def __init__(self, field: str = "cursor") -> None:
        super().__init__("not a cursor returned by this API", about=field)


# --- tokens ------------------------------------------------------------------------------------


class TokenNotFound(NotFound):
    def __init__(self, token_id: int) -> None:
        super().__init__(f"no token {token_id}")


class TokenAlreadyRevoked(DomainError):
    def __init__(self, token_id: int, name: str, revoked_at: str) -> None:
        super().__init__(f"token {token_id} '{name}' was revoked at {revoked_at}")


# --- protection groups, plans, target accounts -----------------------------------------------------


class ProtectionGroupNotFound(NotFound):
    """No protection group has the id a request names."""


class TargetAccountNotFound(NotFound):
    """No target account is registered under the id a request names."""


class NameTaken(DomainError):
    """Another item of the kind has this name (compared case-insensitively)."""


class RegionImmutable(DomainError):
    """A protection group's region never changes: its resources are resolved there."""


class InUse(DomainError):
    """Something still needs what a request would change or delete."""


class ProtectionGroupInUse(InUse):
    """Plans name the group."""


class ProtectionGroupExecuting(InUse):
    """An active execution runs a plan that names the group."""


class PlanExecuting(InUse):
    """The plan has an active execution."""


class TargetAccountInUse(InUse):
    """Groups or auto-waved plans select resources in the account."""


class TargetAccountExists(DomainError):
    """The account is registered already."""


class RoleOfAnotherAccount(DomainError):
    """The role ARN names another account than the one it is registered for."""


# --- readiness and DRS depth ----------------------------------------------------------------------


class PreflightFailed(DomainError):
    """A start whose preflight checks have errors (``force`` overrides it)."""

    def __init__(self, failed: list[dict[str, str]]) -> None:
        first = failed[0]
        where = f" ({first['resourceArn']})" if first.get("resourceArn") else ""
        super().__init__(
            f"{len(failed)} preflight check(s) failed, e.g. {first['name']}{where}: {first['message']}; "
            f"fix them or send force: true (recovery-manager, admin)",
            checks=failed,
        )


class ResourceRunNotFound(NotFound):
    def __init__(self, execution_id: str, run_id: int) -> None:
        super().__init__(f"{execution_id} has no resource run {run_id}", about="resourceRunId")


class NotADrsResource(DomainError):
    def __init__(self, run_id: int, adapter: str) -> None:
        super().__init__(f"{run_id} is a {adapter} resource; only DRS resources have job logs", about="resourceRunId")


class NoLaunchSettings(DomainError):
    def __init__(self, group_id: str) -> None:
        super().__init__(
            f"protection group {group_id} has none; PUT the group with launchSettings first", about="launchSettings"
        )


class InvalidLaunchSettings(DomainError):
    """Launch settings the Region cannot honour (a static IP outside the subnet, an instance type not offered)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        field, problem = problems[0]
        super().__init__(problem, about=field, problems=[{"field": f, "problem": p} for f, p in problems])


class RecoveryInstancesServeProduction(DomainError):
    """Terminating a recovery's instances would take production down; only with ``force``."""

    def __init__(self, execution_id: str) -> None:
        super().__init__(
            f"{execution_id} is a recovery: its instances serve production; send force: true to terminate them",
            mode="recovery",
        )


class NoDataLossAwaited(DomainError):
    """``allowDataLoss`` sent to an execution none of whose clusters waits for a data loss approval."""

    def __init__(self, execution_id: str) -> None:
        super().__init__(
            f"no cluster of {execution_id} waits for a data loss approval; approve or resume without it",
            about="allowDataLoss",
        )
