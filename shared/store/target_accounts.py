"""target_accounts: other AWS accounts drwave reaches by assuming a role (cross-account discovery)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.db.tables import target_accounts
from shared.store.transition import bump_version, remove_at_version

T = target_accounts


def create(conn: Connection, *, account_id: str, created_by: str, **fields: Any) -> Row | None:
    """Register an account (fields: name, role_arn, external_id, regions); None when it is registered already."""
    return conn.execute(
        pg_insert(T)
        .values(account_id=account_id, created_by=created_by, **fields)
        .on_conflict_do_nothing(index_elements=["account_id"])
        .returning(*T.c)
    ).first()


def get(conn: Connection, account_id: str) -> Row | None:
    return conn.execute(select(T).where(T.c.account_id == account_id)).first()


def list_all(conn: Connection) -> list[Row]:
    return list(conn.execute(select(T).order_by(T.c.account_id)))


def update(conn: Connection, account_id: str, *, expected_version: int, **fields: Any) -> Row | None:
    """Compare-and-set on ``version`` of the fields of :func:`create`: the updated row (version + 1), or None
    when the version is stale."""
    return bump_version(conn, T, T.c.account_id == account_id, expected_version, fields)


def remove(conn: Connection, account_id: str, *, expected_version: int) -> bool:
    """Delete the account at ``expected_version``; whether a row was deleted."""
    return remove_at_version(conn, T, T.c.account_id == account_id, expected_version)
