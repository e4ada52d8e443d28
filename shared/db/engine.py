"""One SQLAlchemy engine per process, created on first use (never at import) and re-created after a
fork, so Celery's prefork children never share their parent's connections."""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import InvalidatePoolError

PING_AFTER_IDLE_SECONDS = 1.0  # a pooled connection idle longer than this is pinged before it is used


class Database:
    def __init__(self, url: str, pool_size: int = 5, ping_after_idle: float = PING_AFTER_IDLE_SECONDS):
        self.url = url
        self.pool_size = pool_size
        self.ping_after_idle = ping_after_idle
        self._engine: Engine | None = None
        self._autocommit: Engine | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        pid = os.getpid()
        if self._engine is None or self._pid != pid:
            with self._lock:
                if self._engine is None or self._pid != pid:
                    if self._engine is not None:
                        self._engine.dispose(close=False)
                    engine = create_engine(
                        self.url, pool_size=self.pool_size, max_overflow=10, connect_args={"connect_timeout": 5}
                    )
                    ping_after_idle(engine, self.ping_after_idle)
                    self._engine, self._pid = engine, pid
                    self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        return self._engine

    @property
    def autocommit(self) -> Engine:
        """The same pool, each statement its own transaction: one round trip for a compare-and-set,
        where BEGIN ... COMMIT would cost three. Use it only for single-statement writes."""
        self.engine  # noqa: B018 - (re)creates both engines in a new process
        assert self._autocommit is not None
        return self._autocommit

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = self._autocommit = None


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection with a round trip before use only when it sat idle for `idle_seconds`
    (a restarted or restarting Postgres closed it); `pool_pre_ping` would ping on every checkout, and a
    worker's resource step checks a connection out three times within milliseconds. A connection that
    fails its ping invalidates the pool, as `pool_pre_ping` does. One that breaks while in use raises
    OperationalError, as it always could between a ping and the statement: the worker retries its task,
    the API answers 503, and the reconciler re-drives what the scheduler dropped."""

    @event.listens_for(engine, "checkin")
    def went_idle(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise InvalidatePoolError(f"pooled connection failed its ping: {error}") from error
