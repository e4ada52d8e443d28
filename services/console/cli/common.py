"""What every client command shares: the target API, the client, --json, tables, K=V tags."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .client import Client
from .config import Target, resolve_target

Json = Annotated[bool, typer.Option("--json", help="print the API's JSON and nothing else")]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="K=V, repeatable")]


def plain_console(**options: Any) -> Console:
    """A rich console that prints text as given: names, actors and `[####....]` bars are user data,
    never rich markup (a `[/x]` in a plan name would otherwise crash the command)."""
    return Console(markup=False, highlight=False, **options)


out = plain_console(soft_wrap=True)


def target(ctx: typer.Context) -> Target:
    """The API of --profile (stored by the root command on the context) or of the environment."""
    return resolve_target(ctx.find_root().obj)


def client(ctx: typer.Context) -> Client:
    return Client(target(ctx))


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def answer(data: Any, as_json: bool, human: Callable[[Any], None]) -> None:
    """Print what the API answered: its JSON with --json, else ``human``'s form of it."""
    if as_json:
        print_json(data)
    else:
        human(data)


def items_table(
    columns: tuple[str, ...], row: Callable[[dict[str, Any]], list[str]]
) -> Callable[[dict[str, Any]], None]:
    """The printer of a list answer: a table of ``columns``, one ``row`` per item."""

    def print_items(data: dict[str, Any]) -> None:
        table = new_table(*columns)
        for item in data["items"]:
            table.add_row(*row(item))
        out.print(table)

    return print_items


def new_table(*columns: str) -> Table:
    grid = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        grid.add_column(column, overflow="fold")
    return grid


def parse_tags(values: list[str] | None) -> dict[str, str]:
    tags = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{value!r} is not K=V", param_hint="--tag")
        tags[key] = val
    return tags
