"""The pool pings a connection only after it sat idle: a step's back-to-back checkouts cost no round
trip, and a connection Postgres closed while it was idle is replaced before anyone uses it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from shared.db.engine import Database


@pytest.fixture
def counted_pings(monkeypatch):
    def count(database: Database) -> list[int]:
        """The pings of this database's engine only (its own dialect object): the session's other engines,
        such as the one that terminates the backend, may ping their own idle connections meanwhile."""
        pings: list[int] = []
        dialect = database.engine.dialect
        real = dialect.do_ping
        monkeypatch.setattr(dialect, "do_ping", lambda conn: pings.append(1) or real(conn))
        return pings

    return count


def _backend_pid(database: Database) -> int:
    with database.engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def test_a_connection_checked_out_again_at_once_is_not_pinged(db, counted_pings):
    database = Database(db.url, pool_size=1, ping_after_idle=60)
    pings = counted_pings(database)
    try:
        first = _backend_pid(database)
        assert [_backend_pid(database) for _ in range(5)] == [first] * 5
        assert pings == []
    finally:
        database.dispose()


def test_a_connection_postgres_closed_while_it_sat_idle_is_replaced_before_use(db, counted_pings):
    database = Database(db.url, pool_size=1, ping_after_idle=0.2)
    pings = counted_pings(database)
    try:
        killed = _backend_pid(database)
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
        time.sleep(0.5)

        with database.autocommit.connect() as conn:
            replacement = conn.scalar(text("SELECT pg_backend_pid()"))

        assert replacement != killed
        assert pings == [1]
    finally:
        database.dispose()
