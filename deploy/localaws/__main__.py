"""``python -m deploy.localaws serve|seed`` — run the local AWS endpoint, or load an estate into one."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from deploy.localaws.config import DEFAULT_ACCOUNT_ID


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy.localaws", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the endpoint in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4566, help="0 picks a free port (default 4566)")
    serve.add_argument("--seed", type=Path, help="load this estate YAML once the endpoint is up")
    serve.add_argument(
        "--account", default=DEFAULT_ACCOUNT_ID, help="account of static (non-STS) credentials"
    )
    serve.add_argument("--quiet", action="store_true", help="do not log one line per call")

    seed = commands.add_parser("seed", help="load an estate into a running endpoint")
    seed.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:4566")
    seed.add_argument("--file", type=Path, default=None, help="estate YAML (default: the demo estate)")
    seed.add_argument("--reset", action="store_true", help="clear the endpoint first")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        logging.basicConfig(
            level=logging.WARNING if args.quiet else logging.INFO,
            format="%(asctime)s %(levelname)s %(message)s",
        )
        from deploy.localaws.server import serve

        serve(args.host, args.port, account=args.account, seed=args.seed)
        return 0
    from deploy.localaws.seed import load_estate

    summary = load_estate(args.endpoint, args.file, reset=args.reset)
    print(
        json.dumps(
            {"accountId": summary["accountId"], "counts": summary["counts"], "arns": summary["arns"]},
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
