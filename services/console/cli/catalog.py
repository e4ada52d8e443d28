"""`drwave plans|groups|resources`: recovery plans, protection groups and discovered resources."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from .common import Json, Tags, answer, client, items_table, new_table, out, parse_tags

plans = typer.Typer(help="recovery plans: list, show, validate", no_args_is_help=True)
groups = typer.Typer(help="protection groups: list, show, preview a tag selection", no_args_is_help=True)
resources = typer.Typer(help="discovered DR resources", no_args_is_help=True)

# --- plans -----------------------------------------------------------------------------------


def _plan_row(plan: dict[str, Any]) -> list[str]:
    waves = "auto" if plan.get("autoWaves") else str(len(plan["waves"]))
    return [plan["id"], plan["name"], waves, str(plan["version"]), plan["createdBy"]]


@plans.command("list")
def plans_list(ctx: typer.Context, as_json: Json = False) -> None:
    """All recovery plans."""
    columns = ("id", "name", "waves", "version", "created by")
    answer(client(ctx).get("/v1/recovery-plans"), as_json, items_table(columns, _plan_row))


@plans.command("show")
def plans_show(ctx: typer.Context, plan_id: str, as_json: Json = False) -> None:
    """One plan with its waves."""
    answer(client(ctx).get(f"/v1/recovery-plans/{plan_id}"), as_json, _print_plan)


def _print_plan(plan: dict[str, Any]) -> None:
    out.print(f"{plan['id']} '{plan['name']}' version {plan['version']} by {plan['createdBy']}")
    if plan.get("description"):
        out.print(plan["description"])
    if plan.get("autoWaves"):
        auto = plan["autoWaves"]
        tags = " ".join(f"{k}={v}" for k, v in auto["tags"].items())
        out.print(f"auto waves: {auto['region']} {tags}, gates before {auto['pauseBeforeWaves'] or 'none'}")
    table = new_table("wave", "name", "groups", "gate", "on failure", "timeout")
    for wave in plan["waves"]:
        gate = "pause before" if wave["pauseBeforeWave"] else ""
        groups_of_wave = ", ".join(wave["protectionGroupIds"])
        table.add_row(
            str(wave["number"]), wave["name"], groups_of_wave, gate, wave["onFailure"], f"{wave['timeoutSeconds']}s"
        )
    out.print(table)


@plans.command("validate")
def plans_validate(ctx: typer.Context, plan_id: str, as_json: Json = False) -> None:
    """Dry run: the waves as they would run now, errors, warnings and the RTO estimate."""
    answer(client(ctx).post(f"/v1/recovery-plans/{plan_id}/validate"), as_json, _print_validation)


def _print_validation(data: dict[str, Any]) -> None:
    out.print(data["message"])
    out.print(f"ready: {'yes' if data['ready'] else 'no'}   RTO estimate: {data['rtoEstimateMinutes']} min")
    table = new_table("wave", "name", "resources", "adapters", "RTO target")
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


@groups.command("show")
def groups_show(ctx: typer.Context, group_id: str, as_json: Json = False) -> None:
    """One protection group."""
    answer(client(ctx).get(f"/v1/protection-groups/{group_id}"), as_json, _print_group)


def _print_group(group: dict[str, Any]) -> None:
    for key in ("id", "name", "region", "accountId", "version", "createdBy", "createdAt"):
        out.print(f"{key}: {group.get(key)}")
    out.print(f"selection: {json.dumps(group['selection'])}")


def _group_row(group: dict[str, Any]) -> list[str]:
    return [group["id"], group["name"], group["region"], json.dumps(group["selection"]), str(group["version"])]


@groups.command("list")
def groups_list(ctx: typer.Context, as_json: Json = False) -> None:
    """All protection groups."""
    columns = ("id", "name", "region", "selection", "version")
    answer(client(ctx).get("/v1/protection-groups"), as_json, items_table(columns, _group_row))


def _print_resources(data: dict[str, Any]) -> None:
    out.print(data["message"])
    table = new_table("arn", "status", "wave", "adapter", "RTO", "problems")
    for resource in data.get("resources", data.get("items", [])):
        problems = "; ".join(f"{e['code']}: {e['message']}" for e in resource["errors"])
        rto = f"{resource['rtoTargetMinutes']} min" if resource.get("rtoTargetMinutes") else ""
        table.add_row(
            resource["arn"], resource["status"], str(resource["wave"] or ""), resource["adapter"] or "", rto, problems
        )
    out.print(table)


Region = Annotated[str, typer.Option("--region", help="e.g. us-west-2")]
AccountId = Annotated[str | None, typer.Option("--account-id")]


@groups.command("preview")
def groups_preview(
    ctx: typer.Context, region: Region, tag: Tags = None, account_id: AccountId = None, as_json: Json = False
) -> None:
    """Resolve a tag selection now: resources, derived waves, adapters, tag errors."""
    body = {"region": region, "accountId": account_id, "selection": {"tags": parse_tags(tag)}}
    data = client(ctx).post("/v1/protection-groups/preview", {k: v for k, v in body.items() if v is not None})
    answer(data, as_json, _print_resources)


@resources.command("list")
def resources_list(
    ctx: typer.Context, region: Region, tag: Tags = None, account_id: AccountId = None, as_json: Json = False
) -> None:
    """Discovered DR resources of a region (optionally filtered by tags)."""
    data = client(ctx).get("/v1/resources", region=region, accountId=account_id, tag=tag or None)
    answer(data, as_json, _print_resources)
