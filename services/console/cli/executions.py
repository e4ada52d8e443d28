"""`drwave exec`: start, show, watch, control, events and reports of executions."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from shared.domain.failover import DEFAULT_FAILOVER, Failover
from shared.domain.progress import Phase

from ..progress import is_finished, snapshot_lines
from .client import ApiFailure
from .common import Json, answer, client, items_table, new_table, out, target
from .watch import watch

executions = typer.Typer(
    help="executions: start, watch, approve, pause, cancel, retry, skip, events, report", no_args_is_help=True
)


@executions.command("list")
def exec_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="e.g. RUNNING, PAUSED")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="a plan id")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    as_json: Json = False,
) -> None:
    """Executions, newest first."""
    columns = ("id", "status", "mode", "phase", "plan", "started by", "created")
    data = client(ctx).get("/v1/executions", status=status, planId=plan, limit=limit)
    answer(data, as_json, items_table(columns, _execution_row))


def _execution_row(item: dict[str, Any]) -> list[str]:
    return [item[key] for key in ("id", "status", "mode", "phase", "planName", "createdBy", "createdAt")]


@executions.command("start")
def exec_start(
    ctx: typer.Context,
    plan_id: str,
    drill: Annotated[bool, typer.Option("--drill/--recovery", help="a drill (default) or a real recovery")] = True,
    phase: Annotated[Phase, typer.Option("--phase", help="default instantiate")] = Phase.INSTANTIATE,
    source: Annotated[str | None, typer.Option("--source", help="the execution a later phase follows")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="leave out resources with bad tags")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="why (shown in the timeline)")] = None,
    failover: Annotated[
        Failover, typer.Option("--failover", help="recovery: how Aurora writers move (default auto)")
    ] = DEFAULT_FAILOVER,
    allow_data_loss: Annotated[
        bool, typer.Option("--allow-data-loss", help="recovery, auto: fail over around an unreachable primary")
    ] = False,
    follow: Annotated[bool, typer.Option("--watch", help="then watch it (exit code as `exec watch`)")] = False,
    until_paused: Annotated[bool, typer.Option("--until-paused", help="with --watch: return 3 at a gate")] = False,
    as_json: Json = False,
) -> None:
    """Start a plan; with --watch, follow it to the end."""
    body = {
        "planId": plan_id,
        "mode": "drill" if drill else "recovery",
        "phase": phase.value,
        "sourceExecutionId": source,
        "reason": reason,
        "skipInvalid": skip_invalid,
    }
    if not drill:  # a drill always switches over: the API refuses data loss there
        body |= {"failover": failover.value, "allowDataLoss": allow_data_loss}
    api = client(ctx)
    data = api.post("/v1/executions", {k: v for k, v in body.items() if v is not None})
    if as_json:
        print(json.dumps(data, sort_keys=True) if follow else json.dumps(data, indent=2, sort_keys=True), flush=True)
    else:
        out.print(data["message"])
    if follow:
        profile = target(ctx).profile
        raise typer.Exit(
            watch(api, data["execution"]["id"], profile=profile, until_paused=until_paused, as_json=as_json)
        )


@executions.command("show")
def exec_show(ctx: typer.Context, execution_id: str, as_json: Json = False) -> None:
    """One execution: waves, counts and every resource run."""
    profile = target(ctx).profile
    answer(client(ctx).get(f"/v1/executions/{execution_id}"), as_json, lambda e: _print_execution(e, profile))


def _print_execution(execution: dict[str, Any], profile: str | None) -> None:
    for line in snapshot_lines(execution, profile):
        out.print(line)
    out.print(f"started by {execution['createdBy']}" + (f": {execution['reason']}" if execution.get("reason") else ""))
    table = new_table("wave", "resource", "adapter", "status", "operation", "started", "finished", "error")
    for wave in execution["waves"]:
        for run in wave["resources"]:
            table.add_row(
                str(wave["number"]),
                run["arn"],
                run["adapter"],
                run["status"],
                run.get("operationId") or "",
                run["startedAt"] or "",
                run["finishedAt"] or "",
                run["error"] or "",
            )
    out.print(table)


@executions.command("watch")
def exec_watch(
    ctx: typer.Context,
    execution_id: str,
    until_paused: Annotated[bool, typer.Option("--until-paused", help="return 3 when it parks at a gate")] = False,
    as_json: Json = False,
) -> None:
    """Follow an execution until it ends (exit 0/1/2) or, with --until-paused, parks (exit 3).

    Exit codes: 0 COMPLETED, 2 COMPLETED_WITH_FAILURES, 1 FAILED or CANCELLED, 3 parked at a gate
    (--until-paused). On a terminal a live panel, otherwise one plain line per change; --json prints one
    line of the API's JSON per change."""
    code = watch(client(ctx), execution_id, profile=target(ctx).profile, until_paused=until_paused, as_json=as_json)
    raise typer.Exit(code)


Comment = Annotated[str | None, typer.Option("--comment", help="recorded on the timeline with who did it")]


AllowDataLoss = Annotated[
    bool, typer.Option("--allow-data-loss", help="at a data loss pause: the waiting Aurora clusters fail over")
]


def _control(
    ctx: typer.Context,
    execution_id: str,
    action: str,
    comment: str | None,
    as_json: bool,
    allow_data_loss: bool = False,
) -> None:
    _act(ctx, execution_id, action, {"comment": comment, "allowDataLoss": allow_data_loss}, as_json)


def _act(ctx: typer.Context, execution_id: str, action: str, sent: dict[str, Any], as_json: bool) -> None:
    """POST /v1/executions/{id}/{action} with the fields given (none: no body); print its message."""
    body = {key: value for key, value in sent.items() if value} or None
    answer(client(ctx).post(f"/v1/executions/{execution_id}/{action}", body), as_json, _print_message)


def _print_message(data: dict[str, Any]) -> None:
    out.print(data["message"])


def _approve(ctx: typer.Context, execution_id: str, comment: str | None, as_json: bool, allow_data_loss: bool) -> None:
    """Approve the gate an execution is parked at.

    Calls POST /v1/executions/{id}/approve; a server without the approvals API (404 for the route itself)
    gets a resume instead, and a note on stderr."""
    try:
        _control(ctx, execution_id, "approve", comment, as_json, allow_data_loss)
    except ApiFailure as failure:
        if not failure.route_missing:
            raise
        print("note: this server has no approvals API; resuming instead (comment not recorded)", file=sys.stderr)
        _control(ctx, execution_id, "resume", None, as_json)


def _resume(ctx: typer.Context, execution_id: str, comment: str | None, as_json: bool, allow_data_loss: bool) -> None:
    """Continue a PAUSED execution with the wave it stopped before."""
    _control(ctx, execution_id, "resume", comment, as_json, allow_data_loss)


def _gate_command(name: str, act: Callable[[typer.Context, str, str | None, bool, bool], None]) -> None:
    """Register `exec NAME` (approve, resume: one signature, a comment and --allow-data-loss) running ``act``,
    its help ``act``'s docstring."""

    def command(
        ctx: typer.Context,
        execution_id: str,
        comment: Comment = None,
        allow_data_loss: AllowDataLoss = False,
        as_json: Json = False,
    ) -> None:
        act(ctx, execution_id, comment, as_json, allow_data_loss)

    command.__doc__ = act.__doc__
    executions.command(name)(command)


_gate_command("approve", _approve)
_gate_command("resume", _resume)


@executions.command("pause")
def exec_pause(ctx: typer.Context, execution_id: str, comment: Comment = None, as_json: Json = False) -> None:
    """Park the execution once the current wave finishes."""
    _control(ctx, execution_id, "pause", comment, as_json)


@executions.command("cancel")
def exec_cancel(ctx: typer.Context, execution_id: str, comment: Comment = None, as_json: Json = False) -> None:
    """Stop starting new work; later waves become CANCELLED."""
    _control(ctx, execution_id, "cancel", comment, as_json)


@executions.command("retry")
def exec_retry(
    ctx: typer.Context,
    execution_id: str,
    resources: Annotated[
        list[str] | None, typer.Option("--resource", help="an ARN to retry (repeat it); default every failed one")
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="why (recorded on the timeline)")] = None,
    as_json: Json = False,
) -> None:
    """Give the FAILED or TIMED_OUT resources of a PAUSED or failed execution a new attempt.

    Calls POST /v1/executions/{id}/retry; resources that succeeded are never started again."""
    _act(ctx, execution_id, "retry", {"resources": resources, "comment": comment}, as_json)


@executions.command("skip")
def exec_skip(
    ctx: typer.Context,
    execution_id: str,
    arn: Annotated[str, typer.Option("--arn", help="the FAILED or TIMED_OUT resource to accept")],
    reason: Annotated[str, typer.Option("--reason", help="why it is accepted (required, on the timeline)")],
    as_json: Json = False,
) -> None:
    """Accept a failed resource of a PAUSED execution as SKIPPED; then resume or approve continues."""
    _act(ctx, execution_id, "skip", {"arn": arn, "reason": reason}, as_json)


def _print_events(data: dict[str, Any]) -> None:
    for event in data["items"]:
        out.print(_event_line(event))


def _event_line(event: dict[str, Any]) -> str:
    wave = f" wave {event['waveNumber']}" if event.get("waveNumber") is not None else ""
    return f"{event['at']} {event['kind']}{wave} [{event['actor']}] {event['message']}"


@executions.command("events")
def exec_events(
    ctx: typer.Context,
    execution_id: str,
    follow: Annotated[bool, typer.Option("--follow", help="keep printing new events until it ends")] = False,
    as_json: Json = False,
) -> None:
    """The execution's timeline.

    With --follow it keeps printing until the execution ends (with --json: one event object per line)."""
    api = client(ctx)
    path = f"/v1/executions/{execution_id}/events"
    if not follow:
        return answer(api.get(path), as_json, _print_events)
    after = 0
    while True:
        finished = is_finished(api.get(f"/v1/executions/{execution_id}"))
        for event in api.get(path, after=after)["items"]:
            print(json.dumps(event, sort_keys=True) if as_json else _event_line(event), flush=True)
            after = event["id"]
        if finished:
            return None
        time.sleep(1.0)


@executions.command("report")
def exec_report(
    ctx: typer.Context,
    execution_id: str,
    html: Annotated[Path | None, typer.Option("--html", help="write the HTML report to this file")] = None,
    as_json: Json = False,
) -> None:
    """The execution's report; --html FILE saves the HTML version.

    GET /v1/executions/{id}/report (?format=html); a server without reports answers REPORTS_UNAVAILABLE."""
    api = client(ctx)
    path = f"/v1/executions/{execution_id}/report"
    try:
        if html is not None:
            response = api.request("GET", path, params={"format": "html"})
            html.write_bytes(response.content)
            if not as_json:
                out.print(f"report of {execution_id} written to {html}")
            return None
        data = api.get(path)
    except ApiFailure as failure:
        if failure.route_missing:
            missing = f"this server has no reports API ({path} answered 404)"
            raise ApiFailure(404, "REPORTS_UNAVAILABLE", missing) from None
        raise
    answer(data, as_json, _print_report)


def _print_report(data: Any) -> None:
    if isinstance(data, dict) and data.get("message"):
        out.print(data["message"])
    out.print_json(data=data)
