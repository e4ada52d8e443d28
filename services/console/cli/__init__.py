"""`drwave` client commands: everything the REST API does, from a terminal (typer + rich)."""

from .app import handles, run_client

__all__ = ["handles", "run_client"]
