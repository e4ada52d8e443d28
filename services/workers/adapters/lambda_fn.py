"""The `lambda` adapter: a Lambda function in the DR region, held back until DR, enabled for DR.

"Held back" means reserved concurrency 0 (and, for a function fed by queues or streams, disabled event
source mappings; for one called through an alias, the alias on a stand-by version). Enabling gives it the
tag ``dr:reserved-concurrency`` (a number), or removes the 0 reservation; it points the alias named by
the tag ``dr:alias`` at the version of ``dr:alias-version``; in a recovery it also enables its disabled
event source mappings. In a drill the mappings stay disabled: a drill's DR copy must not consume live
messages.

| phase | what |
|---|---|
| instantiate | concurrency (and, in a recovery, event source mappings) enabled; the state before is recorded |
| activate | function Active, last update Successful, concurrency not 0 |
| cleanup | after a drill: the recorded concurrency and mapping states restored; after a recovery: kept |
| replicate | not applicable |

Status comes from ``get_function``: ``State`` Active and ``LastUpdateStatus`` Successful (and every
mapping this phase changed in its wanted state).
"""

from __future__ import annotations

from typing import Any

from .base import Failed, Outcome, Progress, ResourceContext, Started
from .common import AwsAdapter, aws, aws_value, done_at_start, pages, parse_arn
from .registry import register

TAG_CONCURRENCY = "dr:reserved-concurrency"
TAG_ALIAS = "dr:alias"
TAG_ALIAS_VERSION = "dr:alias-version"
NO_SNAPSHOT = "no snapshot of {what} before the instantiate phase (start cleanup with its sourceExecutionId)"
SETTLING = frozenset({"Creating", "Enabling", "Disabling", "Updating"})
IP, OK, KO = Outcome.IN_PROGRESS, Outcome.SUCCEEDED, Outcome.FAILED


def function_of(arn: str) -> tuple[str, str, str]:
    """``(region, account, unqualified function ARN)``."""
    parsed = parse_arn(arn)
    parts = parsed.resource.split(":")
    if parsed.service != "lambda" or parts[0] != "function" or len(parts) < 2:
        raise Failed(f"{arn} is not a Lambda function ARN")
    base = f"arn:{parsed.partition}:lambda:{parsed.region}:{parsed.account}:function:{parts[1]}"
    return parsed.region, parsed.account, base


def wanted_concurrency(tags: dict[str, str], current: int | None) -> int | str | None:
    """The reserved concurrency to set: a number (put), ``None`` (remove the reservation) or ``"keep"``."""
    raw = tags.get(TAG_CONCURRENCY)
    if raw is not None:
        value = raw.strip()
        if not value.isascii() or not value.isdigit() or int(value) < 1:
            raise Failed(f"tag {TAG_CONCURRENCY}={raw!r} is not a positive whole number")
        return int(value)
    return None if current == 0 else "keep"


def wanted_alias(tags: dict[str, str]) -> tuple[str, str] | None:
    """``(alias, version)`` to point for DR, from ``dr:alias`` + ``dr:alias-version``; None without ``dr:alias``."""
    name = (tags.get(TAG_ALIAS) or "").strip()
    if not name:
        return None
    version = (tags.get(TAG_ALIAS_VERSION) or "").strip()
    if not version:
        raise Failed(f"tag {TAG_ALIAS}={name} needs {TAG_ALIAS_VERSION}=<the version to serve in DR>")
    return name, version


@register("lambda")
class LambdaAdapter(AwsAdapter):
    name = "lambda"
    service = "lambda"

    def _client(self, ctx: ResourceContext) -> tuple[Any, str]:
        region, account, function = function_of(ctx.arn)
        return self.client(ctx, region, account_id=account or None), function

    def _concurrency(self, lam: Any, function: str) -> int | None:
        answer = aws_value(
            lambda: lam.get_function_concurrency(FunctionName=function), "lambda.get_function_concurrency"
        )
        value = answer.get("ReservedConcurrentExecutions")
        return int(value) if value is not None else None

    def _set_concurrency(self, lam: Any, function: str, value: int | None) -> None:
        if value is None:
            aws(
                lambda: lam.delete_function_concurrency(FunctionName=function),
                "lambda.delete_function_concurrency",
                kind="delete",
            )
        else:
            aws(
                lambda: lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=value),
                f"lambda.put_function_concurrency {value}",
            )

    def _mappings(self, lam: Any, function: str) -> dict[str, str]:
        states: dict[str, str] = {}
        name = function.rsplit(":", 1)[-1]  # the client is in the function's account + region; moto filters by name
        for page in pages(lam, "list_event_source_mappings", "lambda.list_event_source_mappings", FunctionName=name):
            for mapping in page.get("EventSourceMappings", []):
                states[mapping["UUID"]] = mapping.get("State", "")
        return states

    def _alias(self, lam: Any, function: str, name: str) -> dict[str, Any]:
        answer = aws_value(lambda: lam.get_alias(FunctionName=function, Name=name), f"lambda.get_alias {name}")
        return {"name": name, "version": answer.get("FunctionVersion"), "routing": answer.get("RoutingConfig")}

    def _point_alias(self, lam: Any, function: str, name: str, version: str, routing: dict[str, Any] | None) -> None:
        aws(
            lambda: lam.update_alias(
                FunctionName=function,
                Name=name,
                FunctionVersion=version,
                RoutingConfig=routing or {"AdditionalVersionWeights": {}},
            ),
            f"lambda.update_alias {name} -> {version}",
        )

    def _set_mappings(self, lam: Any, uuids: list[str], enabled: bool) -> None:
        for uuid in uuids:
            aws(
                lambda uuid=uuid: lam.update_event_source_mapping(UUID=uuid, Enabled=enabled),
                f"lambda.update_event_source_mapping {uuid} Enabled={enabled}",
            )

    def instantiate(self, ctx: ResourceContext) -> Started:
        lam, function = self._client(ctx)
        described = aws_value(lambda: lam.get_function(FunctionName=function), "lambda.get_function")
        current = self._concurrency(lam, function)
        mappings = self._mappings(lam, function)
        snapshot = ctx.detail.get("snapshot") or {"reservedConcurrency": current, "eventSourceMappings": mappings}
        tags = described.get("Tags") or {}
        target = wanted_concurrency(tags, current)
        alias = wanted_alias(tags)
        if alias is not None and "alias" not in snapshot:
            snapshot = {**snapshot, "alias": self._alias(lam, function, alias[0])}
        if target != "keep":
            self._set_concurrency(lam, function, target)
        detail: dict[str, Any] = {
            "snapshot": snapshot,
            "drill": ctx.is_drill,
            "reservedConcurrency": current if target == "keep" else target,
        }
        if alias is not None:
            self._point_alias(lam, function, alias[0], alias[1], None)
            detail["aliasWanted"] = {"name": alias[0], "version": alias[1]}
        disabled = sorted(u for u, state in mappings.items() if state == "Disabled")
        if ctx.is_drill:
            if disabled:
                detail["note"] = f"{len(disabled)} event source mapping(s) left disabled in drill"
        elif disabled:
            self._set_mappings(lam, disabled, True)
            detail["mappingsWanted"] = {uuid: "Enabled" for uuid in disabled}
        return Started(function, detail)

    def activate(self, ctx: ResourceContext) -> Started:
        _, function = self._client(ctx)
        return Started(f"check:{function}", {"check": "active"})

    def cleanup(self, ctx: ResourceContext) -> Started:
        snapshot = ctx.source_detail.get("snapshot")
        if not snapshot:
            raise Failed(NO_SNAPSHOT.format(what="the function"))
        lam, function = self._client(ctx)
        if not ctx.source_detail.get("drill", True):
            return Started(f"kept:{function}", {"note": "kept: after a recovery the DR function serves production"})
        self._set_concurrency(lam, function, snapshot.get("reservedConcurrency"))
        current = self._mappings(lam, function)
        to_disable = sorted(
            uuid
            for uuid, state in (snapshot.get("eventSourceMappings") or {}).items()
            if state == "Disabled" and current.get(uuid) in ("Enabled", "Enabling")
        )
        self._set_mappings(lam, to_disable, False)
        detail: dict[str, Any] = {"restored": {"reservedConcurrency": snapshot.get("reservedConcurrency")}}
        if to_disable:
            detail["mappingsWanted"] = {uuid: "Disabled" for uuid in to_disable}
        alias = snapshot.get("alias")
        if alias:
            self._point_alias(lam, function, alias["name"], alias["version"], alias.get("routing"))
            detail["aliasWanted"] = {"name": alias["name"], "version": alias["version"]}
        return Started(function, detail)

    def replicate(self, ctx: ResourceContext) -> Started:
        return self.not_applicable(ctx, "Lambda functions have no replication to reverse")

    def status(self, ctx: ResourceContext) -> Progress:
        if done_at_start(ctx):
            return Progress(OK)
        lam, function = self._client(ctx)
        config = aws_value(lambda: lam.get_function(FunctionName=function), "lambda.get_function").get(
            "Configuration", {}
        )
        state, update = config.get("State"), config.get("LastUpdateStatus")
        observed = {"state": state, "lastUpdateStatus": update}
        if state == "Failed" or update == "Failed":
            reason = config.get("StateReason") or config.get("LastUpdateStatusReason") or "no reason given"
            return Progress(KO, observed, f"function {state}/{update}: {reason}")
        if state not in (None, "Active") or update not in (None, "Successful"):
            return Progress(IP, observed)
        wanted = ctx.detail.get("mappingsWanted") or {}
        if wanted:
            current = self._mappings(lam, function)
            if any(current.get(uuid) in SETTLING for uuid in wanted):
                return Progress(IP, observed)
            wrong = sorted(uuid for uuid, state in wanted.items() if current.get(uuid) != state)
            if wrong:
                return Progress(KO, observed, f"event source mapping(s) {', '.join(wrong)} did not reach their state")
        alias = ctx.detail.get("aliasWanted")
        if alias:
            pointed = self._alias(lam, function, alias["name"])["version"]
            if pointed != alias["version"]:
                return Progress(KO, observed, f"alias {alias['name']} points at {pointed}, not {alias['version']}")
        if ctx.phase == "activate" and self._concurrency(lam, function) == 0:
            return Progress(KO, observed, "reserved concurrency is 0: the function cannot run (instantiate it first)")
        return Progress(OK, observed)
