"""`drwave` — the command line of the product.

drwave run                                  start everything on embedded defaults and run the demo drill
drwave tokens create --role ROLE --name N [--expires-in 30d]   print a new API token (and nothing else)
drwave tokens list                          every token: id, name, role, created, last used, expires, revoked
drwave tokens revoke NAME_OR_ID             revoke a token (by id, or every live token of that name)
drwave status                               the processes `drwave run` supervises (exit 0: all running)
drwave migrate                              bring the database schema up to date
drwave login|plans|groups|resources|exec    the REST client (services/console/cli; `drwave exec --help`)
"""

from __future__ import annotations

import argparse
import logging
import secrets
import signal
import sys
from pathlib import Path

from pydantic import Field

from services.api.settings import ApiSettings
from shared.domain.roles import Role
from shared.logs import configure_logging
from shared.settings import CommonSettings


def main(argv: list[str] | None = None) -> None:
    from services.console.cli import handles, run_client

    argv = sys.argv[1:] if argv is None else argv
    if handles(argv):
        return run_client(argv)
    parser = argparse.ArgumentParser(
        prog="drwave",
        description="drwave disaster-recovery orchestrator",
        epilog="client commands (talk to the REST API): login, plans, groups, resources, exec; "
        "see `drwave exec --help`",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start API, scheduler, workers and Flower, then run the demo drill")
    run.add_argument(
        "--demo",
        choices=["estate", "simulated", "none"],
        default="estate",
        help="estate: drill the seeded demo estate on the local AWS with the real adapters, then clean up "
        "(default); simulated: a 3-wave plan of simulated resources; none: just start the stack",
    )
    run.add_argument(
        "--no-local-aws",
        action="store_true",
        help="do not start the local AWS emulator: adapters use the AWS credentials and endpoints of the environment",
    )
    run.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")

    tokens = commands.add_parser("tokens", help="manage API tokens")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it on stdout")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True, help="who or what uses the token (shown in the timeline)")
    create.add_argument("--expires-in", help="lifetime such as 90s, 15m, 12h or 30d (default: never expires)")
    token_commands.add_parser("list", help="list tokens (never their secrets)")
    revoke = token_commands.add_parser("revoke", help="revoke a token by id, or every live token of a name")
    revoke.add_argument("name_or_id")

    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser(
        "status",
        help="show each process `drwave run` supervises; exit 0 when all run, 1 when one does not, "
        "3 when no drwave run is up under the state dir",
    )

    args = parser.parse_args(argv)
    if args.command == "run":
        run_settings = RunSettings()
        configure_logging(run_settings.log_level, run_settings.log_format)
        sys.exit(_run(run_settings, args))
    settings = CommonSettings()
    if args.command == "status":
        sys.exit(_status(settings.state_dir))
    if args.command == "tokens":
        configure_logging("WARNING")
        sys.exit(_with_database(settings, lambda url: _tokens_command(url, args)))
    if args.command == "migrate":
        configure_logging(settings.log_level, settings.log_format)
        _with_database(settings, lambda url: None)


def _with_database(settings: CommonSettings, action):
    """Run `action(database_url)` on the configured database, or the embedded one under the state dir
    (attaching to it when `drwave run` is up, else starting it just for this command)."""
    from shared.db.migrate import upgrade
    from shared.embedded import ensure_postgres

    server = None
    url = settings.database_url
    if url is None:
        server = ensure_postgres(settings.state_dir)
        url = server.url
    try:
        upgrade(url)
        return action(url)
    finally:
        if server is not None and server.started:
            server.stop()


CLI_ACTOR = "cli (local)"


def _create_token(url: str, role: Role, name: str, expires_in: str | None = None) -> str:
    from services.api.commands.tokens import issue_token
    from shared.db.engine import Database

    db = Database(url, pool_size=1)
    try:
        with db.engine.begin() as conn:
            return issue_token(conn, CLI_ACTOR, name, role, expires_in)[1]
    finally:
        db.dispose()


def _tokens_command(url: str, args) -> int:
    """`drwave tokens create|list|revoke`; the exit code (2 for bad input, 1 when nothing matched)."""
    from services.api.commands.tokens import revoke_token
    from shared.db.engine import Database
    from shared.domain.durations import parse_duration
    from shared.store import tokens

    if args.tokens_command == "create":
        name = args.name.strip()
        try:
            if not name:
                raise ValueError("--name: must not be blank")
            if args.expires_in:
                parse_duration(args.expires_in)
        except ValueError as error:
            print(f"drwave tokens create: {error}", file=sys.stderr)
            return 2
        print(_create_token(url, Role(args.role), name, args.expires_in))
        return 0
    db = Database(url, pool_size=1)
    try:
        with db.engine.begin() as conn:
            if args.tokens_command == "list":
                print(_token_table(tokens.list_all(conn)))
                return 0
            found = tokens.find(conn, args.name_or_id)
            revoked = [row for row in found if revoke_token(conn, CLI_ACTOR, row) is not None]
    finally:
        db.dispose()
    if not found:
        print(f"drwave tokens revoke: no token with id or name {args.name_or_id!r}", file=sys.stderr)
        return 1
    for row in revoked:
        print(f"revoked token {row.id} '{row.name}' ({row.role})")
    if not revoked:
        print(f"token(s) {', '.join(str(r.id) for r in found)} named {found[0].name!r} were revoked already")
    return 0


def _token_table(rows) -> str:
    from datetime import UTC
    def when(value) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"

    header = ("ID", "NAME", "ROLE", "CREATED", "LAST USED", "EXPIRES", "REVOKED")
    lines = [header] + [
        (str(r.id), r.name, r.role, when(r.created_at), when(r.last_used_at), when(r.expires_at), when(r.revoked_at))
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)


class RunSettings(ApiSettings):
    """What `drwave run` (make run) needs beyond the API's settings. Its poll and reconcile defaults are
    short because the local AWS answers in seconds; DRWAVE_POLL_INTERVAL / DRWAVE_RECONCILE_INTERVAL win."""

    flower_port: int = Field(default=5555, description="port of Flower")
    local_aws_port: int = Field(default=4566, description="port of the local AWS emulator")
    poll_interval: float = Field(default=1.0, description="seconds between AWS status polls (make run)")
    reconcile_interval: float = Field(default=5.0, description="seconds between reconciler passes (make run)")
    readiness_interval: float = Field(default=60.0, description="seconds between readiness passes (make run)")


def _shutdown(*_) -> None:
    raise KeyboardInterrupt


def _run(settings: RunSettings, args) -> int:
    from services.demo import run_demo, run_estate_demo
    from services.stack import Stack, StackConfig

    flower_password = secrets.token_urlsafe(12)
    config = StackConfig(
        state_dir=settings.state_dir,
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        api_host=settings.api_host,
        api_port=settings.api_port,
        flower=True,
        flower_port=settings.flower_port,
        flower_password=flower_password,
        local_aws=not args.no_local_aws,
        local_aws_port=settings.local_aws_port,
        workers=args.workers,
        env={
            "DRWAVE_POLL_INTERVAL": str(settings.poll_interval),
            "DRWAVE_RECONCILE_INTERVAL": str(settings.reconcile_interval),
            "DRWAVE_READINESS_INTERVAL": str(settings.readiness_interval),
            # make run is a local sandbox: webhook receivers on this machine are allowed (README "Notifications")
            "DRWAVE_WEBHOOK_ALLOW_PRIVATE": "true",
            "DRWAVE_PUBLIC_API_URL": f"http://{settings.api_host}:{settings.api_port}",
        },
    )
    stack = Stack(config)
    # Ctrl-C and SIGTERM stop it even when started with SIGINT ignored (`nohup`, a script's `&`), which
    # Python would otherwise keep: its documented way to stop must always work.
    signal.signal(signal.SIGINT, _shutdown)
    signal.signal(signal.SIGTERM, _shutdown)
    try:
        print(
            f"drwave: starting PostgreSQL, Redis, API, scheduler, {args.workers} worker(s) and Flower "
            f"under {Path(config.state_dir).resolve()} ...",
            flush=True,
        )
        stack.start()
        stack.supervise()
        token = _create_token(stack.database_url, Role.ADMIN, "make-run-admin")
        print(
            f"""
  API      {stack.api_url}   (OpenAPI: {stack.api_url}/openapi.json, UI: {stack.api_url}/docs)
  Flower   http://127.0.0.1:{settings.flower_port}   (user {config.flower_user}, password {flower_password})
  Logs     {stack.log_dir.resolve()}
  Token    {token}   (admin; more with: .venv/bin/drwave tokens create --role operator --name you)
  Webhooks DRWAVE_WEBHOOK_ALLOW_PRIVATE=true: subscriptions may target receivers on this machine
""",
            flush=True,
        )
        if stack.aws_env:
            print(f"  AWS      {stack.aws_env['AWS_ENDPOINT_URL']}   (local AWS emulator, demo estate loaded)\n")
        if args.demo == "estate" and not stack.aws_env:
            print("demo: the estate demo needs the local AWS emulator; skipping it (--no-local-aws)")
        elif args.demo == "estate":
            run_estate_demo(stack.api_url, token, reports_dir=Path(config.state_dir) / "reports")
            print(f"demo: DRS recovery instances left after the cleanup: {_recovery_instances_left(stack.aws_env)}")
        elif args.demo == "simulated":
            run_demo(stack.api_url, token, reports_dir=Path(config.state_dir) / "reports")
        print("drwave is up. Press Ctrl-C to stop every process it started.", flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        print("\ndrwave: stopping ...", flush=True)
        return 0
    except Exception as error:
        logging.getLogger("drwave").error("drwave run failed: %s", error)
        return 1
    finally:
        # A second Ctrl-C (or the SIGTERM a supervisor forwards) must not abandon half-stopped processes.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        print("drwave: stopped.", flush=True)


STATUS_NOT_RUNNING = 3  # like `systemctl status` for a unit that is not active


def _status(state_dir: Path) -> int:
    from shared import processes

    supervision = processes.read(state_dir)
    if supervision is None:
        print(f"drwave is not running under {state_dir.resolve()} (no {processes.STATE_FILE}); start it: make run")
        return STATUS_NOT_RUNNING
    if supervision.supervisor_alive:
        print(f"drwave run (pid {supervision.supervisor_pid}) under {state_dir.resolve()}")
    else:
        print(f"drwave run (pid {supervision.supervisor_pid}) is not running; last report {supervision.updated_at}")
    print(f"  {'process':<12} {'state':<11} {'pid':>7}  {'restarts':>8}  {'last exit':<10}  since")
    for p in supervision.processes:
        pid, last_exit = p.pid or "-", p.last_exit or "-"
        print(f"  {p.name:<12} {p.state:<11} {pid:>7}  {p.restarts:>8}  {last_exit:<10}  {p.since or '-'}")
    if not supervision.supervisor_alive:
        return STATUS_NOT_RUNNING
    return 0 if supervision.all_running else 1


def _recovery_instances_left(aws_env: dict[str, str]) -> int:
    """What the local AWS still runs for the demo's drill (the cleanup should have left nothing)."""
    import boto3

    drs = boto3.client(
        "drs",
        region_name="us-west-2",
        endpoint_url=aws_env["AWS_ENDPOINT_URL"],
        aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"],
    )
    return len(drs.describe_recovery_instances()["items"])


if __name__ == "__main__":
    main()
