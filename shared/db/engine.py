"""One SQLAlchemy engine per process, created on first use (never at import) and re-created after a
fork, so Celery's prefork children never share their parent's connections."""

from __future__ import annotations

import os
import threading

from sqlalchemy import Engine, create_engine


class Database:
    def __init__(self, url: str, pool_size: int = 5):
        self.url = url
        self.pool_size = pool_size
        self._engine: Engine | None = None
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
                    self._engine = create_engine(
                        self.url,
                        pool_size=self.pool_size,
                        max_overflow=10,
                        pool_pre_ping=True,
                        connect_args={"connect_timeout": 5},
                    )
                    self._pid = pid
        return self._engine

    @property
    def autocommit(self) -> Engine:
        """The same pool, each statement its own transaction: one round trip for a compare-and-set,
        where BEGIN ... COMMIT would cost three. Use it only for single-statement writes."""
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
