"""The compare-and-set every status write of every store is built from (not a table of its own).

``guard(column, expected, target)`` checks ``expected -> target`` against the state machine's table
(``shared.domain.states.check_move``) and returns the ``WHERE status = expected`` Postgres applies, so
the move table and the guard of the ``UPDATE`` are one thing: another writer that moved the row first
makes the update match nothing, and the caller sees None.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from shared.domain.states import S, check_move


def guard(column: ColumnElement, expected: S, target: S) -> ColumnElement[bool]:
    check_move(expected, target)
    return column == expected.value
