"""The client commands of `drwave`: plans, groups, resources, exec, login.

Every command takes --json (print the API's JSON and nothing else); an API error prints its code and
message on stderr and exits 1."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shared.domain.progress import Phase

from ..progress import is_finished, snapshot_lines
from .client import ApiFailure, Client
from .config import DEFAULT_PROFILE, Target, resolve_target, save_profile
from .watch import watch

app = typer.Typer(
    name="drwave",
    help="drwave client: drive recovery plans and executions through the REST API "
    "(DRWAVE_URL, DRWAVE_TOKEN or a profile saved by `drwave login`).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
plans = typer.Typer(help="recovery plans: list, show, validate", no_args_is_help=True)
groups = typer.Typer(help="protection groups: list, show, preview a tag selection", no_args_is_help=True)
resources = typer.Typer(help="discovered DR resources", no_args_is_help=True)
executions = typer.Typer(help="executions: start, watch, approve, pause, cancel, events, report", no_args_is_help=True)
app.add_typer(plans, name="plans")
app.add_typer(groups, name="groups")
app.add_typer(resources, name="resources")
app.add_typer(executions, name="exec")
CLIENT_COMMANDS = frozenset(
    {"login", "plans", "groups", "resources", "exec", "--install-completion", "--show-completion"}
)
COMPLETION_VARIABLE = "_DRWAVE_COMPLETE"

Json = Annotated[bool, typer.Option("--json", help="print the API's JSON and nothing else")]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="K=V, repeatable")]
out = Console(highlight=False, soft_wrap=True)


def handles(argv: list[str]) -> bool:
    """Whether `drwave ARGV` is a client command (or shell completion asking about one)."""
    if argv[:1] == ["--profile"]:
        argv = argv[2:]
    elif argv[:1] and argv[0].startswith("--profile="):
        argv = argv[1:]
    return COMPLETION_VARIABLE in os.environ or bool(argv and argv[0] in CLIENT_COMMANDS)


def run_client(argv: list[str]) -> None:
    try:
        app(args=argv, prog_name="drwave")
    except ApiFailure as failure:
        print(f"{failure.code}: {failure.message}", file=sys.stderr)
        sys.exit(1)
    except LookupError as error:
        print(f"CONFIG: {error.args[0]}", file=sys.stderr)
        sys.exit(1)


@app.callback()
def _root(
    ctx: typer.Context,
    profile: Annotated[
        str | None, typer.Option("--profile", envvar="DRWAVE_PROFILE", help="a profile saved by `drwave login`")
    ] = None,
) -> None:
    ctx.obj = profile


def _target(ctx: typer.Context) -> Target:
    return resolve_target(ctx.find_root().obj)


def _client(ctx: typer.Context) -> Client:
    return Client(_target(ctx))


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _table(*columns: str) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _tags(values: list[str] | None) -> dict[str, str]:
    tags = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{value!r} is not K=V", param_hint="--tag")
        tags[key] = val
    return tags


# --- login -----------------------------------------------------------------------------------


@app.command()
def login(
    url: Annotated[str, typer.Option("--url", help="the API, e.g. http://127.0.0.1:8080")],
    token: Annotated[str, typer.Option("--token", help="an API token (drwave tokens create ...)")],
    profile: Annotated[str, typer.Option("--profile", help="name to save it under")] = DEFAULT_PROFILE,
    as_json: Json = False,
) -> None:
    """Check the token against the API and save URL + token as a profile (file mode 0600)."""
    me = Client(Target(url.rstrip("/"), token, profile)).get("/v1/me")
    path = save_profile(profile, url, token)
    if as_json:
        return _print_json(me)
    out.print(f"Logged in to {url} as {me['name']} ({me['role']}); profile '{profile}' saved in {path}")


# --- plans -----------------------------------------------------------------------------------


@plans.command("list")
def plans_list(ctx: typer.Context, as_json: Json = False) -> None:
    """All recovery plans."""
    data = _client(ctx).get("/v1/recovery-plans")
    if as_json:
        return _print_json(data)
    table = _table("id", "name", "waves", "version", "created by")
    for plan in data["items"]:
        waves = "auto" if plan.get("autoWaves") else str(len(plan["waves"]))
        table.add_row(plan["id"], plan["name"], waves, str(plan["version"]), plan["createdBy"])
    out.print(table)


@plans.command("show")
def plans_show(ctx: typer.Context, plan_id: str, as_json: Json = False) -> None:
    """One plan with its waves."""
    plan = _client(ctx).get(f"/v1/recovery-plans/{plan_id}")
    if as_json:
        return _print_json(plan)
    out.print(f"{plan['id']} '{plan['name']}' version {plan['version']} by {plan['createdBy']}")
    if plan.get("description"):
        out.print(plan["description"])
    if plan.get("autoWaves"):
        auto = plan["autoWaves"]
        tags = " ".join(f"{k}={v}" for k, v in auto["tags"].items())
        out.print(f"auto waves: {auto['region']} {tags}, gates before {auto['pauseBeforeWaves'] or 'none'}")
    table = _table("wave", "name", "groups", "gate", "on failure", "timeout")
    for wave in plan["waves"]:
        gate = "pause before" if wave["pauseBeforeWave"] else ""
        table.add_row(
            str(wave["number"]), wave["name"], ", ".join(wave["protectionGroupIds"]), gate, wave["onFailure"],
            f"{wave['timeoutSeconds']}s",
        )
    out.print(table)


@plans.command("validate")
def plans_validate(ctx: typer.Context, plan_id: str, as_json: Json = False) -> None:
    """Dry run: the waves as they would run now, errors, warnings and the RTO estimate."""
    data = _client(ctx).post(f"/v1/recovery-plans/{plan_id}/validate")
    if as_json:
        return _print_json(data)
    out.print(data["message"])
    out.print(f"ready: {'yes' if data['ready'] else 'no'}   RTO estimate: {data['rtoEstimateMinutes']} min")
    table = _table("wave", "name", "resources", "adapters", "RTO target")
    for wave in data["waves"]:
        adapters = ", ".join(f"{k} {v}" for k, v in wave["adapters"].items())
        table.add_row(
            str(wave["number"]), wave["name"], str(len(wave["resources"])), adapters, f"{wave['rtoTargetMinutes']} min"
        )
    out.print(table)
    for kind in ("errors", "warnings"):
        for finding in data[kind]:
            out.print(f"{kind[:-1].upper()} {finding['code']}: {finding['message']}")


# --- protection groups and resources ------------------------------------------------------------


@groups.command("list")
def groups_list(ctx: typer.Context, as_json: Json = False) -> None:
    """All protection groups."""
    data = _client(ctx).get("/v1/protection-groups")
    if as_json:
        return _print_json(data)
    table = _table("id", "name", "region", "selection", "version")
    for group in data["items"]:
        selection = json.dumps(group["selection"])
        table.add_row(group["id"], group["name"], group["region"], selection, str(group["version"]))
    out.print(table)


@groups.command("show")
def groups_show(ctx: typer.Context, group_id: str, as_json: Json = False) -> None:
    """One protection group."""
    group = _client(ctx).get(f"/v1/protection-groups/{group_id}")
    if as_json:
        return _print_json(group)
    for key in ("id", "name", "region", "accountId", "version", "createdBy", "createdAt"):
        out.print(f"{key}: {group.get(key)}")
    out.print(f"selection: {json.dumps(group['selection'])}")


def _print_resources(data: dict[str, Any]) -> None:
    out.print(data["message"])
    table = _table("arn", "status", "wave", "adapter", "RTO", "problems")
    for resource in data.get("resources", data.get("items", [])):
        problems = "; ".join(f"{e['code']}: {e['message']}" for e in resource["errors"])
        rto = f"{resource['rtoTargetMinutes']} min" if resource.get("rtoTargetMinutes") else ""
        table.add_row(
            resource["arn"], resource["status"], str(resource["wave"] or ""), resource["adapter"] or "", rto, problems
        )
    out.print(table)


@groups.command("preview")
def groups_preview(
    ctx: typer.Context,
    region: Annotated[str, typer.Option("--region", help="e.g. us-west-2")],
    tag: Tags = None,
    account_id: Annotated[str | None, typer.Option("--account-id")] = None,
    as_json: Json = False,
) -> None:
    """Resolve a tag selection now: resources, derived waves, adapters, tag errors."""
    body = {"region": region, "accountId": account_id, "selection": {"tags": _tags(tag)}}
    data = _client(ctx).post("/v1/protection-groups/preview", {k: v for k, v in body.items() if v is not None})
    if as_json:
        return _print_json(data)
    _print_resources(data)


@resources.command("list")
def resources_list(
    ctx: typer.Context,
    region: Annotated[str, typer.Option("--region", help="e.g. us-west-2")],
    tag: Tags = None,
    account_id: Annotated[str | None, typer.Option("--account-id")] = None,
    as_json: Json = False,
) -> None:
    """Discovered DR resources of a region (optionally filtered by tags)."""
    data = _client(ctx).get("/v1/resources", region=region, accountId=account_id, tag=tag or None)
    if as_json:
        return _print_json(data)
    _print_resources(data)


# --- executions ----------------------------------------------------------------------------------


@executions.command("list")
def exec_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="e.g. RUNNING, PAUSED")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="a plan id")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    as_json: Json = False,
) -> None:
    """Executions, newest first."""
    data = _client(ctx).get("/v1/executions", status=status, planId=plan, limit=limit)
    if as_json:
        return _print_json(data)
    table = _table("id", "status", "mode", "phase", "plan", "started by", "created")
    for item in data["items"]:
        table.add_row(
            item["id"], item["status"], item["mode"], item["phase"], item["planName"], item["createdBy"],
            item["createdAt"],
        )
    out.print(table)


@executions.command("start")
def exec_start(
    ctx: typer.Context,
    plan_id: str,
    drill: Annotated[bool, typer.Option("--drill/--recovery", help="a drill (default) or a real recovery")] = True,
    phase: Annotated[Phase, typer.Option("--phase", help="default instantiate")] = Phase.INSTANTIATE,
    source: Annotated[str | None, typer.Option("--source", help="the execution a later phase follows")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="leave out resources with bad tags")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="why (shown in the timeline)")] = None,
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
    client = _client(ctx)
    data = client.post("/v1/executions", {k: v for k, v in body.items() if v is not None})
    if as_json:
        print(json.dumps(data, sort_keys=True) if follow else json.dumps(data, indent=2, sort_keys=True), flush=True)
    else:
        out.print(data["message"])
    if follow:
        profile = _target(ctx).profile
        raise typer.Exit(
            watch(client, data["execution"]["id"], profile=profile, until_paused=until_paused, as_json=as_json)
        )


@executions.command("show")
def exec_show(ctx: typer.Context, execution_id: str, as_json: Json = False) -> None:
    """One execution: waves, counts and every resource run."""
    execution = _client(ctx).get(f"/v1/executions/{execution_id}")
    if as_json:
        return _print_json(execution)
    for line in snapshot_lines(execution, _target(ctx).profile):
        out.print(line)
    out.print(f"started by {execution['createdBy']}" + (f": {execution['reason']}" if execution.get("reason") else ""))
    table = _table("wave", "resource", "adapter", "status", "operation", "started", "finished", "error")
    for wave in execution["waves"]:
        for run in wave["resources"]:
            table.add_row(
                str(wave["number"]), run["arn"], run["adapter"], run["status"], run.get("operationId") or "",
                run["startedAt"] or "", run["finishedAt"] or "", run["error"] or "",
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
    code = watch(
        _client(ctx), execution_id, profile=_target(ctx).profile, until_paused=until_paused, as_json=as_json
    )
    raise typer.Exit(code)


Comment = Annotated[str | None, typer.Option("--comment", help="recorded with the action where the API takes one")]


def _control(ctx: typer.Context, execution_id: str, action: str, comment: str | None, as_json: bool) -> None:
    body = {"comment": comment} if comment else None
    data = _client(ctx).post(f"/v1/executions/{execution_id}/{action}", body)
    if as_json:
        return _print_json(data)
    out.print(data["message"])


@executions.command("approve")
def exec_approve(ctx: typer.Context, execution_id: str, comment: Comment = None, as_json: Json = False) -> None:
    """Approve the gate an execution is parked at.

    Calls POST /v1/executions/{id}/approve; a server without the approvals API (404 for the route itself)
    gets a resume instead, and a note on stderr."""
    try:
        _control(ctx, execution_id, "approve", comment, as_json)
    except ApiFailure as failure:
        if not failure.route_missing:
            raise
        print("note: this server has no approvals API; resuming instead (comment not recorded)", file=sys.stderr)
        _control(ctx, execution_id, "resume", None, as_json)


@executions.command("resume")
def exec_resume(ctx: typer.Context, execution_id: str, comment: Comment = None, as_json: Json = False) -> None:
    """Continue a PAUSED execution with the wave it stopped before."""
    _control(ctx, execution_id, "resume", comment, as_json)


@executions.command("pause")
def exec_pause(ctx: typer.Context, execution_id: str, comment: Comment = None, as_json: Json = False) -> None:
    """Park the execution once the current wave finishes."""
    _control(ctx, execution_id, "pause", comment, as_json)


@executions.command("cancel")
def exec_cancel(ctx: typer.Context, execution_id: str, comment: Comment = None, as_json: Json = False) -> None:
    """Stop starting new work; later waves become CANCELLED."""
    _control(ctx, execution_id, "cancel", comment, as_json)


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
    client = _client(ctx)
    path = f"/v1/executions/{execution_id}/events"
    if not follow:
        data = client.get(path)
        if as_json:
            return _print_json(data)
        for event in data["items"]:
            out.print(_event_line(event))
        return None
    after = 0
    while True:
        finished = is_finished(client.get(f"/v1/executions/{execution_id}"))
        for event in client.get(path, after=after)["items"]:
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
    client = _client(ctx)
    path = f"/v1/executions/{execution_id}/report"
    try:
        if html is not None:
            response = client.request("GET", path, params={"format": "html"})
            html.write_bytes(response.content)
            if not as_json:
                out.print(f"report of {execution_id} written to {html}")
            return None
        data = client.get(path)
    except ApiFailure as failure:
        if failure.route_missing:
            missing = f"this server has no reports API ({path} answered 404)"
            raise ApiFailure(404, "REPORTS_UNAVAILABLE", missing) from None
        raise
    if as_json:
        return _print_json(data)
    if isinstance(data, dict) and data.get("message"):
        out.print(data["message"])
    out.print_json(data=data)
