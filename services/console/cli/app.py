"""The client commands of `drwave`: login, plans, groups, resources, exec.

Every command takes --json (print the API's JSON and nothing else); an API error prints its code and
message on stderr and exits 1."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from .catalog import groups, plans, resources
from .client import ApiFailure, Client
from .common import Json, out, print_json
from .config import DEFAULT_PROFILE, Target, save_profile
from .executions import executions

app = typer.Typer(
    name="drwave",
    help="drwave client: drive recovery plans and executions through the REST API "
    "(DRWAVE_URL, DRWAVE_TOKEN or a profile saved by `drwave login`).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(plans, name="plans")
app.add_typer(groups, name="groups")
app.add_typer(resources, name="resources")
app.add_typer(executions, name="exec")
app.add_typer(executions, name="executions", hidden=True)  # the long spelling of `exec`
CLIENT_COMMANDS = frozenset(
    {"login", "plans", "groups", "resources", "exec", "executions", "--install-completion", "--show-completion"}
)
COMPLETION_VARIABLE = "_DRWAVE_COMPLETE"
SERVER_COMMANDS = ("run", "tokens", "migrate", "status")  # services/cli.py (argparse) runs them


def _server_command(name: str) -> None:
    """List `drwave NAME` here too, so shell completion offers it; its arguments go to services/cli.py."""

    def hand_over(ctx: typer.Context) -> None:
        from services.cli import main  # imported late: services.cli imports this package

        main([name, *ctx.args])

    settings = {"allow_extra_args": True, "ignore_unknown_options": True}
    help_text = f"server command: see `drwave {name} --help`"
    app.command(name, help=help_text, context_settings=settings, add_help_option=False)(hand_over)


for _name in SERVER_COMMANDS:
    _server_command(_name)


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
        return print_json(me)
    out.print(f"Logged in to {url} as {me['name']} ({me['role']}); profile '{profile}' saved in {path}")
