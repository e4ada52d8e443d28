"""The adapters of wave actions (docs/architecture.md, "Wave actions"): ``action-lambda`` invokes a function,
``action-ssm`` starts an SSM Automation and polls it.

An action does the same in every phase (it is told which: ``drwave.phase``), so every phase method is
its ``run``. Clients come from the worker's session factory like every adapter's, as the action's account (a
registered target account's role when it has one), and errors are sorted by :func:`.common.aws`.

* Lambda: ``invoke`` (RequestResponse) waits for the function's answer, on a client that waits the
  action's ``timeoutSeconds`` and makes one attempt (a retry would run the function twice). The answer
  is the run's ``output`` (at most ``OUTPUT_LIMIT`` bytes); a ``FunctionError`` fails the run.
  A worker killed mid-invoke leaves the start claimed without an operation id: once the claim is stale
  the function is invoked again (at least once: make such functions idempotent).
* SSM: ``start_automation_execution`` with the spec's parameters (plus ``drwave`` when the document
  declares that parameter), then ``get_automation_execution`` on every poll (short task runs, never a
  sleep): Success succeeds; Failed, TimedOut, Cancelled (and their kin) fail with SSM's message.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ReadTimeoutError

from shared.domain.actions import context, lambda_payload, ssm_parameters, truncated
from shared.domain.arns import location

from .base import Failed, Outcome, Progress, ResourceContext, Started
from .common import DONE_ALREADY, AwsAdapter, aws, aws_value
from .registry import register

IP, OK, KO = Outcome.IN_PROGRESS, Outcome.SUCCEEDED, Outcome.FAILED
READ_MARGIN_SECONDS = 10  # past the function's own timeout, for its answer to arrive
SSM_SUCCEEDED = frozenset({"Success", "CompletedWithSuccess"})
SSM_FAILED = frozenset({"Failed", "TimedOut", "Cancelled", "CompletedWithFailure", "Rejected", "Exited"})


def told(ctx: ResourceContext) -> dict[str, Any]:
    return context(ctx.execution_id, ctx.mode, ctx.phase, ctx.wave_number, ctx.action.get("when", ""))


def output_detail(text: str) -> dict[str, Any]:
    """What a run keeps of an action's answer."""
    output, cut = truncated(text)
    return {"output": output, **({"outputTruncated": True} if cut else {})}


@register("action-lambda")
class LambdaAction(AwsAdapter):
    name = "action-lambda"
    service = "lambda"

    def run(self, ctx: ResourceContext) -> Started:
        function = ctx.action["functionArn"]
        account, region = location(function)
        timeout = int(ctx.action["timeoutSeconds"])
        lam = self.client(ctx, region, account_id=account, read_timeout=timeout + READ_MARGIN_SECONDS)
        payload = lambda_payload(ctx.action, told(ctx))

        def invoke() -> dict[str, Any]:
            try:
                return lam.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=payload)
            except ReadTimeoutError as error:
                raise Failed(f"lambda.invoke {function}: no answer within {timeout}s") from error

        answer = aws_value(invoke, f"lambda.invoke {function}", kind="change")
        body = answer["Payload"].read().decode(errors="replace") if answer.get("Payload") else ""
        request_id = (answer.get("ResponseMetadata") or {}).get("RequestId") or f"invoke:{ctx.resource_run_id}"
        detail = {**output_detail(body), "statusCode": answer.get("StatusCode")}
        error = answer.get("FunctionError")
        result: dict[str, Any] = {"outcome": OK.value}
        if error:
            result = {"outcome": KO.value, "error": f"function error ({error}): {_error_message(body)}"}
        return Started(request_id, {**detail, "result": result})

    instantiate = activate = cleanup = replicate = run

    def status(self, ctx: ResourceContext) -> Progress:
        result = ctx.detail.get("result") or {}
        if not result:
            raise Failed("the invoke's answer was not recorded")
        return Progress(Outcome(result["outcome"]), error=result.get("error"))


def _error_message(body: str) -> str:
    """A function error's ``errorMessage`` (Lambda answers ``{"errorMessage", "errorType", ...}``)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:500] or "no message"
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        return str(parsed["errorMessage"])[:500]
    return body[:500]


@register("action-ssm")
class SsmAction(AwsAdapter):
    name = "action-ssm"
    service = "ssm"

    def _client(self, ctx: ResourceContext) -> Any:
        return self.client(ctx, ctx.action.get("region"), account_id=ctx.action.get("accountId"))

    def run(self, ctx: ResourceContext) -> Started:
        ssm = self._client(ctx)
        document = ctx.action["documentName"]
        described = aws_value(lambda: ssm.describe_document(Name=document), f"ssm.describe_document {document}")
        declared = {p["Name"] for p in (described.get("Document") or {}).get("Parameters") or []}
        parameters = ssm_parameters(ctx.action, told(ctx), declared)
        started = aws_value(
            lambda: ssm.start_automation_execution(DocumentName=document, Parameters=parameters),
            f"ssm.start_automation_execution {document}",
            kind="change",
        )
        return Started(started["AutomationExecutionId"], {"document": document})

    instantiate = activate = cleanup = replicate = run

    def status(self, ctx: ResourceContext) -> Progress:
        ssm = self._client(ctx)
        execution_id = ctx.operation_id
        answer = aws_value(
            lambda: ssm.get_automation_execution(AutomationExecutionId=execution_id),
            f"ssm.get_automation_execution {execution_id}",
        )["AutomationExecution"]
        state = answer.get("AutomationExecutionStatus", "")
        observed = {"automationStatus": state}
        if state in SSM_SUCCEEDED or state in SSM_FAILED:
            observed |= output_detail(json.dumps(answer.get("Outputs") or {}, sort_keys=True))
        if state in SSM_SUCCEEDED:
            return Progress(OK, observed)
        if state in SSM_FAILED:
            reason = answer.get("FailureMessage") or "no reason given"
            return Progress(KO, observed, f"automation {execution_id} {state}: {reason}")
        return Progress(IP, observed)

    def abandon(self, ctx: ResourceContext) -> str | None:
        """A timed-out automation is stopped (``Cancel``): drwave no longer waits for it, so it must not go
        on changing things unwatched."""
        ssm = self._client(ctx)
        execution_id = ctx.operation_id
        stopped = aws(
            lambda: ssm.stop_automation_execution(AutomationExecutionId=execution_id, Type="Cancel"),
            f"ssm.stop_automation_execution {execution_id}",
            done_already=("InvalidAutomationStatusUpdateException",),  # it ended meanwhile
        )
        return None if stopped is DONE_ALREADY else f"automation {execution_id} stopped"
