"""The unit of work: one connection and one transaction, the store modules bound to it, and the
messages that go out only after it committed.

    with uow_factory() as uow:
        row = uow.executions.move(execution_id, ES.PAUSED, ES.RUNNING, actor=..., message=...)
        uow.publish(AdvanceExecution(execution_id))
    # committed here, then published; an exception rolls back and drops the messages

A publish that fails after the commit is logged, never raised: the reconciler finds the committed state
in Postgres and re-drives it (docs/architecture.md, "Lost messages"). ``autocommit=True`` makes each
statement its own transaction (one round trip for a compare-and-set instead of three): only for code
whose every write is a single statement, like the worker's hot path.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any, Protocol, Self

from sqlalchemy import Connection

from shared.db.engine import Database
from shared.messaging import Message
from shared.store import (
    approval_grants,
    approval_requests,
    events,
    executions,
    groups,
    launch_batches,
    outbox,
    plans,
    readiness,
    resource_locks,
    resources,
    target_accounts,
    waves,
)

log = logging.getLogger(__name__)

STORES: dict[str, ModuleType] = {
    "approval_grants": approval_grants,
    "approval_requests": approval_requests,
    "events": events,
    "executions": executions,
    "groups": groups,
    "launch_batches": launch_batches,
    "outbox": outbox,
    "plans": plans,
    "readiness": readiness,
    "resource_locks": resource_locks,
    "resources": resources,
    "target_accounts": target_accounts,
    "waves": waves,
}


class MessageSink(Protocol):
    def publish(self, message: Message) -> None: ...


class UnitOfWork:
    """What the service layer sees: a store per table (``uow.executions.get(id)``) and ``publish``.

    Subclasses own the connection: :class:`SqlUnitOfWork` for Postgres, a fake in tests/unit.
    """

    approval_grants: Any
    approval_requests: Any
    events: Any
    executions: Any
    groups: Any
    launch_batches: Any
    outbox: Any
    plans: Any
    readiness: Any
    resource_locks: Any
    resources: Any
    target_accounts: Any
    waves: Any

    def __init__(self, publisher: MessageSink | None) -> None:
        self.publisher = publisher
        self.messages: list[Message] = []

    def publish(self, message: Message) -> None:
        """Send ``message`` once this unit has committed; dropped if it rolls back."""
        if self.publisher is None:
            raise RuntimeError("this unit of work has no publisher")
        self.messages.append(message)

    def __enter__(self) -> Self:
        self.messages = []
        self._begin()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.messages = []
            self._end(commit=False)
            return
        self._end(commit=True)
        sent, self.messages = self.messages, []
        for message in sent:
            try:
                self.publisher.publish(message)  # type: ignore[union-attr]  # publish() checked it is set
            except Exception:  # the reconciler re-drives it from Postgres
                log.exception("publish of %s failed after commit; the reconciler will repair it", message)

    def _begin(self) -> None:
        raise NotImplementedError

    def _end(self, commit: bool) -> None:
        """Commit, or roll back when ``commit`` is false; either way the connection is given back."""
        raise NotImplementedError


UnitOfWorkFactory = Callable[..., UnitOfWork]
"""Called as ``factory()`` for a transaction or ``factory(autocommit=True)``; each call is a new unit."""


class _Bound:
    """A store module with its functions' first argument (the connection) filled in."""

    def __init__(self, module: ModuleType, conn: Connection) -> None:
        self._module = module
        self._conn = conn

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return functools.partial(getattr(self._module, name), self._conn)


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, db: Database, publisher: MessageSink | None = None, *, autocommit: bool = False) -> None:
        super().__init__(publisher)
        self.db = db
        self.autocommit = autocommit

    def _begin(self) -> None:
        engine = self.db.autocommit if self.autocommit else self.db.engine
        self.conn = engine.connect()
        self._transaction = None if self.autocommit else self.conn.begin()
        for name, module in STORES.items():
            setattr(self, name, _Bound(module, self.conn))

    def _end(self, commit: bool) -> None:
        try:
            if self._transaction is not None:
                (self._transaction.commit if commit else self._transaction.rollback)()
        finally:
            self.conn.close()


def sql_units(db: Database, publisher: MessageSink | None = None) -> UnitOfWorkFactory:
    """The factory a composition root hands to its service layer."""
    return functools.partial(SqlUnitOfWork, db, publisher)
