"""approval_grants: who approved a gate, with which role and comment, when."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Row, insert, select

from shared.db.tables import approval_grants

T = approval_grants


def add(conn: Connection, request_id: int, *, approver: str, role: str, comment: str | None) -> Row:
    return conn.execute(
        insert(T).values(request_id=request_id, approver=approver, role=role, comment=comment).returning(*T.c)
    ).one()


def for_requests(conn: Connection, request_ids: Iterable[int]) -> dict[int, list[Row]]:
    ids = list(request_ids)
    grouped: dict[int, list[Row]] = {i: [] for i in ids}
    if ids:
        for row in conn.execute(select(T).where(T.c.request_id.in_(ids)).order_by(T.c.id)):
            grouped[row.request_id].append(row)
    return grouped
