"""target_accounts: other AWS accounts drwave reaches by assuming a role (cross-account discovery)."""

from __future__ import annotations

from sqlalchemy import Connection, Row, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.db.tables import target_accounts
from shared.store.transition import bump_version

T = target_accounts


def create(
    conn: Connection,
    *,
    account_id: str,
    name: str | None,
    role_arn: str,
    external_id: str | None,
    regions: list[str],
    created_by: str,
) -> Row | None:
    """Register an account; None when it is registered already."""
    return conn.execute(
        pg_insert(T)
        .values(
            account_id=account_id,
            name=name,
            role_arn=role_arn,
            external_id=external_id,
            regions=regions,
            created_by=created_by,
        )
        .on_conflict_do_nothing(index_elements=["account_id"])
        .returning(*T.c)
    ).first()


def get(conn: Connection, account_id: str) -> Row | None:
    return conn.execute(select(T).where(T.c.account_id == account_id)).first()


def list_all(conn: Connection) -> list[Row]:
    return list(conn.execute(select(T).order_by(T.c.account_id)))


def update(
    conn: Connection,
    account_id: str,
    *,
    expected_version: int,
    name: str | None,
    role_arn: str,
    external_id: str | None,
    regions: list[str],
) -> Row | None:
    """Compare-and-set on ``version``: the updated row (version + 1), or None when the version is stale."""
    values = {"name": name, "role_arn": role_arn, "external_id": external_id, "regions": regions}
    return bump_version(conn, T, T.c.account_id == account_id, expected_version, values)


def remove(conn: Connection, account_id: str, *, expected_version: int) -> bool:
    """Delete the account at ``expected_version``; whether a row was deleted."""
    return conn.execute(delete(T).where(T.c.account_id == account_id, T.c.version == expected_version)).rowcount == 1
