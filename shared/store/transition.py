"""The compare-and-sets every store builds its writes from (not a table of its own): status moves
checked against their state machine, and edits checked against the ``version`` last read.

``guard(column, expected, target)`` checks ``expected -> target`` against the state machine's table
(``shared.domain.states.check_move``) and returns the ``WHERE status = expected`` Postgres applies, so
the move table and the guard of the ``UPDATE`` are one thing: another writer that moved the row first
makes the update match nothing, and the caller sees None.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, delete, func, update

from shared.domain.states import S, check_move


def guard(column: ColumnElement, expected: S, target: S) -> ColumnElement[bool]:
    check_move(expected, target)
    return column == expected.value


def bump_version(
    conn: Connection, table: Table, key: ColumnElement[bool], expected_version: int, values: dict[str, Any]
) -> Row | None:
    """Optimistic locking: write ``values`` (version + 1) only at ``expected_version``; None when stale."""
    changes = {**values, "version": table.c.version + 1, "updated_at": func.clock_timestamp()}
    statement = update(table).where(key, table.c.version == expected_version).values(**changes).returning(*table.c)
    return conn.execute(statement).first()


def remove_at_version(conn: Connection, table: Table, key: ColumnElement[bool], expected_version: int) -> bool:
    """Optimistic locking of a delete: only at ``expected_version``; whether a row was deleted."""
    return conn.execute(delete(table).where(key, table.c.version == expected_version)).rowcount == 1
