"""The catalog rows the commands act on, or the not-found error (404) naming the one a request asked for:
one place each, so every endpoint that names a group, plan or account says the same when it is missing."""

from __future__ import annotations

from sqlalchemy import Connection, Row

from shared.domain.errors import PlanNotFound, ProtectionGroupNotFound, TargetAccountNotFound
from shared.store import groups, plans, target_accounts


def group(conn: Connection, group_id: str, *, lock: bool = False) -> Row:
    """The protection group; ``lock`` holds it ``FOR UPDATE`` until the transaction ends."""
    row = groups.get(conn, group_id, lock=lock)
    if row is None:
        raise ProtectionGroupNotFound(f"no protection group {group_id!r}")
    return row


def plan(conn: Connection, plan_id: str, *, field: str | None = None) -> Row:
    """The live recovery plan; ``field`` names the request field that gave its id (``planId``)."""
    row = plans.get(conn, plan_id)
    if row is None:
        raise PlanNotFound(plan_id, field=field)
    return row


def target_account(conn: Connection, account_id: str) -> Row:
    row = target_accounts.get(conn, account_id)
    if row is None:
        raise TargetAccountNotFound(f"no target account {account_id!r}")
    return row
