"""Lambda ``Invoke`` without Docker and SSM Automation, over moto's functions and documents.

moto keeps the functions (``create_function``, ``update_function_configuration``) and documents
(``create_document``); we answer the calls moto cannot without Docker or does not have:

* ``lambda:Invoke`` (RequestResponse): the function must exist in moto (else 404
  ``ResourceNotFoundException``). What it does is decided by its environment variables:
  ``LOCALAWS_ERROR`` set → a ``FunctionError`` (``Unhandled``) whose ``errorMessage`` is its value;
  else it answers ``{"ok": true, "function": <name>, "event": <the event>}`` (``LOCALAWS_OUTPUT_BYTES``
  pads the answer to that size, to exercise truncation).
* ``ssm:StartAutomationExecution`` / ``GetAutomationExecution``: the document must exist in moto (else
  ``InvalidDocument``) and be of type Automation; parameters it does not declare are refused
  (``InvalidAutomationExecutionParametersException``), as SSM does. Its ``mainSteps`` run over time:
  an ``aws:sleep`` step takes its ``inputs.Duration`` (``PT5S``, ``PT1M``); a step whose
  ``inputs.LocalAwsOutcome`` is ``Failed``, ``TimedOut`` or ``Cancelled`` ends the automation so, with
  ``inputs.Message`` (or a default) as its ``FailureMessage``; any other step succeeds at once. Values
  may name parameters (``{{ Outcome }}``), filled from those given or the document's defaults. Every
  step's ``inputs.Message`` becomes an output ``<step>.Message``. ``StopAutomationExecution`` ends one
  still in progress ``Cancelled`` (one already ended: ``InvalidAutomationStatusUpdateException``).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from deploy.localaws.awscall import AwsCall
from deploy.localaws.errors import AwsError, json_response, request_id

OPERATIONS = {
    ("lambda", "Invoke"),
    ("ssm", "StartAutomationExecution"),
    ("ssm", "GetAutomationExecution"),
    ("ssm", "StopAutomationExecution"),
}
ENDINGS = frozenset({"Failed", "TimedOut", "Cancelled"})
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")
_PARAMETER = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")


def duration_seconds(text: str) -> float:
    """``PT1M30S`` → 90."""
    match = _DURATION.match(str(text).strip())
    if match is None:
        raise AwsError("InvalidAutomationExecutionParametersException", f"invalid Duration {text!r}")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


@dataclass
class Step:
    name: str
    seconds: float
    outcome: str  # Success | Failed | TimedOut | Cancelled
    message: str | None


@dataclass
class Automation:
    automation_id: str
    document: str
    parameters: dict[str, list[str]]
    steps: list[Step]
    started: float
    stopped: float | None = None  # when StopAutomationExecution ended it

    def view(self, now: float) -> dict[str, Any]:
        if self.stopped is not None:
            now = min(now, self.stopped)
        elapsed, status, failure, outputs = now - self.started, "InProgress", None, {}
        end = self.started
        for step in self.steps:
            if elapsed < (end - self.started) + step.seconds:
                break
            end += step.seconds
            if step.message is not None:
                outputs[f"{step.name}.Message"] = [step.message]
            if step.outcome in ENDINGS:
                status, failure = step.outcome, step.message or f"Step {step.name} {step.outcome}"
                break
        else:
            status = "Success"
        if status == "InProgress" and self.stopped is not None:
            status, failure, end = "Cancelled", "Stopped by StopAutomationExecution", self.stopped
        answer: dict[str, Any] = {
            "AutomationExecutionId": self.automation_id,
            "DocumentName": self.document,
            "AutomationExecutionStatus": status,
            "ExecutionStartTime": self.started,
            "Parameters": self.parameters,
            "Outputs": outputs,
        }
        if status != "InProgress":
            answer["ExecutionEndTime"] = end
        if failure:
            answer["FailureMessage"] = failure
        return answer


@dataclass
class Actions:
    clock: Callable[[], float] = time.time
    automations: dict[tuple[str, str, str], Automation] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.automations.clear()

    def handle(self, call: AwsCall, account: str) -> Response:
        body = json.loads(call.body or b"{}") if call.service == "ssm" else {}
        if call.service == "lambda":
            return self._invoke(call, account)
        if call.operation == "StartAutomationExecution":
            return self._start(call, account, body)
        if call.operation == "StopAutomationExecution":
            return self._stop(call, account, body)
        return self._get(call, account, body)

    # --- Lambda ------------------------------------------------------------------------------------

    def _invoke(self, call: AwsCall, account: str) -> Response:
        from moto.awslambda.models import lambda_backends

        name = unquote(call.raw_path.split("/functions/", 1)[1].split("/", 1)[0])
        qualifier = (call.query.get("Qualifier") or [None])[0]
        try:
            function = lambda_backends[account][call.region].get_function(name, qualifier)
        except Exception as error:  # moto's UnknownFunctionException
            raise AwsError("ResourceNotFoundException", f"Function not found: {name}", 404) from error
        env = dict(function.environment_vars or {})
        headers = {"x-amzn-RequestId": request_id(), "X-Amz-Executed-Version": "$LATEST"}
        if env.get("LOCALAWS_ERROR"):
            headers["X-Amz-Function-Error"] = "Unhandled"
            payload: Any = {"errorMessage": env["LOCALAWS_ERROR"], "errorType": "Error"}
        else:
            try:
                event = json.loads(call.body) if call.body else None
            except ValueError:
                event = call.body.decode(errors="replace")
            payload = {"ok": True, "function": function.function_name, "event": event}
            pad = int(env.get("LOCALAWS_OUTPUT_BYTES") or 0)
            if pad:
                payload["padding"] = "x" * pad
        return Response(json.dumps(payload), status=200, headers=headers, content_type="application/json")

    # --- SSM Automation ------------------------------------------------------------------------------

    def _start(self, call: AwsCall, account: str, body: dict[str, Any]) -> Response:
        from moto.ssm.models import ssm_backends

        name = str(body.get("DocumentName") or "")
        short = name.rsplit("document/", 1)[-1]
        try:
            document = ssm_backends[account][call.region]._get_documents(short).get_default_version()
        except Exception as error:  # moto's InvalidDocument
            raise AwsError("InvalidDocument", f"Document {name} does not exist") from error
        if document.document_type != "Automation":
            raise AwsError("InvalidDocumentType", f"Document {name} is not an Automation document")
        given = {k: [str(v) for v in values] for k, values in (body.get("Parameters") or {}).items()}
        declared = (document.content_json or {}).get("parameters") or {}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise AwsError(
                "InvalidAutomationExecutionParametersException",
                f"Parameter {unknown[0]} is not defined in the document {name}",
            )
        values = {k: str((spec or {}).get("default", "")) for k, spec in declared.items()}
        values |= {k: ",".join(v) for k, v in given.items()}
        steps = [_step(raw, values) for raw in (document.content_json or {}).get("mainSteps") or []]
        automation = Automation(str(uuid.uuid4()), name, given, steps, self.clock())
        with self.lock:
            self.automations[(account, call.region, automation.automation_id)] = automation
        return json_response({"AutomationExecutionId": automation.automation_id})

    def _get(self, call: AwsCall, account: str, body: dict[str, Any]) -> Response:
        view = self._automation(call, account, body).view(self.clock())
        return json_response({"AutomationExecution": view}, content_type="application/x-amz-json-1.1")

    def _stop(self, call: AwsCall, account: str, body: dict[str, Any]) -> Response:
        automation = self._automation(call, account, body)
        with self.lock:
            now = self.clock()
            if automation.view(now)["AutomationExecutionStatus"] != "InProgress":
                raise AwsError(
                    "InvalidAutomationStatusUpdateException",
                    f"The automation execution {automation.automation_id} has already ended",
                )
            automation.stopped = now
        return json_response({}, content_type="application/x-amz-json-1.1")

    def _automation(self, call: AwsCall, account: str, body: dict[str, Any]) -> Automation:
        wanted = str(body.get("AutomationExecutionId") or "")
        with self.lock:
            automation = self.automations.get((account, call.region, wanted))
        if automation is None:
            raise AwsError("AutomationExecutionNotFoundException", f"Automation execution {wanted} not found")
        return automation


def _fill(value: Any, values: dict[str, str]) -> str:
    return _PARAMETER.sub(lambda m: values.get(m.group(1), m.group(0)), str(value))


def _step(raw: dict[str, Any], values: dict[str, str]) -> Step:
    inputs = raw.get("inputs") or {}
    seconds = duration_seconds(_fill(inputs["Duration"], values)) if raw.get("action") == "aws:sleep" else 0.0
    outcome = _fill(inputs.get("LocalAwsOutcome", "Success"), values)
    message = _fill(inputs["Message"], values) if "Message" in inputs else None
    return Step(str(raw.get("name", "step")), seconds, outcome, message)
