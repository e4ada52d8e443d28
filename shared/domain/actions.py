"""Pre- and post-wave actions, pure (docs/architecture.md, "Wave actions"): what an action is, which stage
of its wave it runs in, what it is told and how much of its answer is kept.

A wave runs in stages, one after the other: each pre-action is a stage of its own (negative numbers, in
order), the wave's resources are stage 0, each post-action a stage after it. An action is a resource
run like any other (claims, polling, timeouts, the reconciler apply unchanged) whose adapter is
``action-lambda`` or ``action-ssm`` and whose spec is stored with the run (``resource_runs.action``).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from shared.domain.arns import location


class ActionType(StrEnum):
    LAMBDA = "lambda"
    SSM_AUTOMATION = "ssm-automation"


class When(StrEnum):
    PRE = "pre"
    POST = "post"


ADAPTERS = {ActionType.LAMBDA: "action-lambda", ActionType.SSM_AUTOMATION: "action-ssm"}
"""The adapter that runs each type of action (services/workers/adapters/actions.py)."""
DEFAULT_TIMEOUT_SECONDS = {ActionType.LAMBDA: 300, ActionType.SSM_AUTOMATION: 1800}
MAX_TIMEOUT_SECONDS = {ActionType.LAMBDA: 900, ActionType.SSM_AUTOMATION: 48 * 3600}
"""Lambda runs a function for at most 15 minutes; an automation may take up to two days here."""
MAX_ACTIONS = 10  # per list (preActions, postActions) of one wave
OUTPUT_LIMIT = 4096  # bytes of an action's answer kept with its run
CONTEXT_KEY = "drwave"
"""The payload key (Lambda) and the parameter (SSM, one string: the JSON) that carries :func:`context`."""
RESOURCE_STAGE = 0


def stage_of(when: When, index: int, count: int) -> int:
    """The stage of the ``index``-th (0-based) of ``count`` actions: pre-actions -count..-1, post 1..count."""
    return index - count if when is When.PRE else index + 1


def label(wave: int, when: When, index: int, spec: dict[str, Any]) -> str:
    """The run's name in the execution (its ``arn`` column): unique per execution, readable in the timeline."""
    target = spec.get("functionArn") or spec.get("documentName")
    return f"action:wave{wave}:{when.value}{index + 1}:{spec['type']}:{target}"


def runs_for_wave(
    wave: int,
    pre: list[dict[str, Any]],
    post: list[dict[str, Any]],
    *,
    region: str | None = None,
    account_id: str | None = None,
    where: str | None = None,
) -> list[dict[str, Any]]:
    """The resource-run rows of a wave's actions. An SSM action without its own region (nor one in a document
    ARN) and account runs in those given (the wave's first protection group's); a Lambda function's come
    from its ARN. ``where``: the wave's place in the plan (``waves[0]``), so checks can name the field."""
    rows = []
    for when, specs in ((When.PRE, pre), (When.POST, post)):
        for index, spec in enumerate(specs):
            stored = {**spec, "when": when.value, "index": index + 1}
            stored["planField"] = f"{where or f'waves[{wave - 1}]'}.{when.value}Actions[{index}]"
            if spec["type"] == ActionType.SSM_AUTOMATION:
                stored["region"] = spec.get("region") or location(spec["documentName"])[1] or region
                stored["accountId"] = spec.get("accountId") or account_id
            rows.append(
                {
                    "wave_number": wave,
                    "arn": label(wave, when, index, spec),
                    "adapter": ADAPTERS[ActionType(spec["type"])],
                    "stage": stage_of(when, index, len(specs)),
                    "action": stored,
                }
            )
    return rows


def context(execution_id: str, mode: str, phase: str, wave: int, when: str) -> dict[str, Any]:
    """What every action is told: which execution, drill or recovery, which phase, which wave, pre or post."""
    return {"executionId": execution_id, "mode": mode, "phase": phase, "wave": wave, "when": when}


def lambda_payload(spec: dict[str, Any], told: dict[str, Any]) -> bytes:
    """The function's event: the spec's payload with ``drwave`` (:func:`context`) added."""
    return json.dumps({**(spec.get("payload") or {}), CONTEXT_KEY: told}).encode()


def ssm_parameters(spec: dict[str, Any], told: dict[str, Any], declared: set[str]) -> dict[str, list[str]]:
    """The automation's parameters: the spec's, plus ``drwave`` (the JSON of :func:`context`, one string)
    when the document declares a parameter of that name (SSM refuses parameters a document does not)."""
    parameters = {name: list(values) for name, values in (spec.get("parameters") or {}).items()}
    if CONTEXT_KEY in declared:
        parameters[CONTEXT_KEY] = [json.dumps(told, separators=(",", ":"))]
    return parameters


def truncated(text: str, limit: int = OUTPUT_LIMIT) -> tuple[str, bool]:
    """At most ``limit`` bytes of UTF-8 ``text`` (never half a character), and whether any was cut."""
    data = text.encode()
    if len(data) <= limit:
        return text, False
    return data[:limit].decode(errors="ignore"), True
